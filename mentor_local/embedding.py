"""Embedders for the bundled all-MiniLM-L6-v2, from local files only.

Two of them, recorded by id in every index (an index is searched with the embedder that built it):

- ``all-MiniLM-L6-v2-int8-r1`` (the default on a CPU): the same model exported to ONNX once at setup, its
  attention fused by onnxruntime's BERT optimiser and its weights quantised to int8 (dynamic,
  per channel). About 1.5-1.9x faster than torch on 2 cores for chunks and 10x for a query, and it
  needs neither torch nor sentence-transformers at run time.
- ``all-MiniLM-L6-v2`` (the default on a GPU): sentence-transformers in fp32 on torch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

INT8_RECIPE = "1"  # bump when export_int8 changes what it writes: a new id, so no old vector is mixed in
FP32_ID = "all-MiniLM-L6-v2"
INT8_ID = f"all-MiniLM-L6-v2-int8-r{INT8_RECIPE}"
EMBEDDER_IDS = (INT8_ID, FP32_ID)
MAX_TOKENS = 256  # the model's window (sentence_bert_config.json max_seq_length)


def cuda_possible() -> bool:
    """Cheap first check, so a CPU-only machine never imports torch just to ask."""
    return any(Path(p).exists() for p in ("/dev/nvidia0", "/dev/nvidiactl", "/proc/driver/nvidia/version"))


def pick_device(device: str) -> str:
    if device in ("cpu", "cuda"):
        return device
    if not cuda_possible():
        return "cpu"
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:
        return "cpu"


def default_embedder_id(device: str) -> str:
    """int8 ONNX on a CPU; torch fp32 where a GPU embeds."""
    return FP32_ID if pick_device(device) == "cuda" else INT8_ID


def _quiet_transformers() -> None:
    """No progress bars or advice from transformers on the user's screen."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    except ImportError:
        pass


class SentenceTransformerEmbedder:
    def __init__(self, path: Path, device: str = "auto") -> None:
        from mentor_local import offline

        offline.apply()
        from sentence_transformers import SentenceTransformer

        _quiet_transformers()
        self.device = pick_device(device)
        self._model: Any = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self._dim = int(get_dim() or 0)
        # Large batches feed a GPU; on a CPU, small ones waste less on padding.
        self.batch_size = 256 if self.device == "cuda" else 32

    @property
    def model_id(self) -> str:
        return FP32_ID

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


class OnnxInt8Embedder:
    """MiniLM as int8 ONNX on onnxruntime's CPU provider: tokenise, run, mean-pool, normalise.

    The same steps sentence-transformers takes for this model (BERT → mean pooling → L2 normalise),
    so its vectors sit at cosine ≥ 0.98 to the fp32 ones (tests/indexing/test_onnx_embedder.py).
    """

    def __init__(self, onnx_path: Path, tokenizer_json: Path, threads: int | None = None) -> None:
        from mentor_local import offline

        offline.apply()  # before onnxruntime initialises: its telemetry opt-out is read once
        import onnxruntime as ort
        from tokenizers import Tokenizer

        ort.disable_telemetry_events()

        self._tokenizer = Tokenizer.from_file(str(tokenizer_json))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        opts = ort.SessionOptions()
        try:
            cores = len(os.sched_getaffinity(0))  # the cores this process may use (Linux)
        except AttributeError:  # elsewhere: every core
            cores = os.cpu_count() or 1
        opts.intra_op_num_threads = threads or max(1, min(cores, 8))
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # No busy-waiting between runs: the LLM shares these cores right after a query is embedded.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.device = "cpu"

    @property
    def model_id(self) -> str:
        return INT8_ID

    @property
    def dimension(self) -> int:
        return 384

    @property
    def max_tokens(self) -> int:
        return MAX_TOKENS

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One text per run. Dynamic int8 quantises activations with a scale taken from the whole input,
        so in a padded batch a vector would depend on its batch-mates; alone, it depends only on its text
        (the cache, resumed runs and the seed rely on that). On 2 cores it is no slower than
        length-sorted batches of 16: there is no padding at all."""
        import numpy as np

        out: list[list[float]] = []
        for enc in self._tokenizer.encode_batch(list(texts)):
            ids = np.array([enc.ids or [0]], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            pooled = self._session.run(None, feed)[0][0].mean(axis=0)  # mean over tokens: no padding to mask
            out.append((pooled / max(float(np.linalg.norm(pooled)), 1e-12)).tolist())
        return out


def export_int8(model_dir: Path, target: Path) -> None:
    """Export the sentence-transformers folder's BERT to ONNX, fuse it, quantise it to int8: ``target``.

    Offline and deterministic for given weights; a killed run leaves no file under ``target``'s name.
    Needs torch, transformers and onnx (installed by ``make setup``); run once per machine.
    """
    import logging
    import tempfile
    import warnings

    from mentor_local import offline

    offline.apply()  # before onnxruntime, torch and transformers are imported
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel, AutoTokenizer

    _quiet_transformers()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    # eager attention exports the classic pattern that onnxruntime fuses into one Attention op
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()
    config = model.config

    class _Bert(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    sample = tokenizer(["def f(x):\n    return x", "a longer second example sentence"], padding=True,
                       return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".onnx-") as tmp:
        fp32, fused, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "fused.onnx", Path(tmp) / "int8.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Bert(model), tuple(sample[n] for n in names), str(fp32), input_names=names,
                              output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]})
        opt = optimizer.optimize_model(str(fp32), model_type="bert", num_heads=int(config.num_attention_heads),
                                       hidden_size=int(config.hidden_size), opt_level=1)
        if opt.get_fused_operator_statistics().get("Attention", 0) == 0:
            raise RuntimeError("onnxruntime did not fuse the attention layers; the int8 model would be slow")
        opt.save_model_to_file(str(fused))
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the quantiser's pre-processing advice is noise here
        try:
            quantize_dynamic(str(fused), str(int8), per_channel=True, reduce_range=False,
                             weight_type=QuantType.QInt8,
                             extra_options={"DefaultTensorType": 1})  # 1 = FLOAT, for the fused ops' outputs
        finally:
            root.setLevel(level)
        with int8.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(int8, target)
