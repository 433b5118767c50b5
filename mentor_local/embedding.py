"""sentence-transformers adapter: the bundled all-MiniLM-L6-v2, from a local path only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

EMBEDDER_ID = "all-MiniLM-L6-v2"


def pick_device(device: str) -> str:
    if device in ("cpu", "cuda"):
        return device
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:
        return "cpu"


class SentenceTransformerEmbedder:
    def __init__(self, path: Path, device: str = "auto") -> None:
        from mentor_local import offline

        offline.apply()
        from sentence_transformers import SentenceTransformer

        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        except ImportError:
            pass
        self.device = pick_device(device)
        self._model: Any = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self._dim = int(get_dim() or 0)
        # Large batches feed a GPU; on a CPU, small ones waste less on padding.
        self.batch_size = 256 if self.device == "cuda" else 32

    @property
    def model_id(self) -> str:
        return EMBEDDER_ID

    @property
    def dimension(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        if len(texts) <= 4 and self.device == "cpu":
            # A query is tiny: one thread avoids OpenMP's hand-off and spin costs, which dominate
            # here (measured under load on 2 cores: ~60 ms with one thread, 200-1000 ms with two).
            import torch

            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return self._encode(texts)
            finally:
                torch.set_num_threads(threads)
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> list[list[float]]:
        vecs = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        return [list(map(float, v)) for v in vecs]
