; Awaited calls: sequential awaits in loops.
(await (call) @awaited_call) @await
