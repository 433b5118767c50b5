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

        self.device = pick_device(device)
        self._model: Any = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        self._dim = int(self._model.get_sentence_embedding_dimension())
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
        vecs = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        return [list(map(float, v)) for v in vecs]
