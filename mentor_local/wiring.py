"""The one place that chooses adapters and imports the heavy libraries (lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mentor_local.settings import Settings

if TYPE_CHECKING:
    from mentor_local.answer.backends.probe import ProbeResult
    from mentor_local.index.ports import IndexAdapters
    from mentor_local.protocols import ChatModel, Embedder

_EMBEDDERS: dict[tuple[str, str], Embedder] = {}


def embedder_id_for(settings: Settings) -> str:
    """The embedder a new index gets: the ``embedder`` setting, or by device when it is ``auto``."""
    from mentor_local.embedding import FP32_ID, INT8_ID, default_embedder_id

    if settings.embedder == "int8":
        return INT8_ID
    if settings.embedder == "fp32":
        return FP32_ID
    return default_embedder_id(settings.device)


def make_embedder(settings: Settings, model_id: str | None = None) -> Embedder:
    """The bundled embedder with that id (default: :func:`embedder_id_for`), loaded once per process."""
    from mentor_local.embedding import INT8_ID, OnnxInt8Embedder, SentenceTransformerEmbedder
    from mentor_local.models import embedder_path, prepare_int8_embedder

    model_id = model_id or embedder_id_for(settings)
    path = embedder_path()
    key = (model_id, settings.device)
    if key not in _EMBEDDERS:
        if model_id == INT8_ID:
            onnx, built = prepare_int8_embedder()  # a stat when `make setup` has run; else exported once now
            try:
                _EMBEDDERS[key] = OnnxInt8Embedder(onnx, path / "tokenizer.json")
            except ImportError:
                raise
            except Exception:  # onnxruntime's load errors derive from Exception only
                if built:  # a fresh export that does not load is not a damaged file
                    raise
                onnx, _ = prepare_int8_embedder(force=True)  # a damaged file: export it again, once
                _EMBEDDERS[key] = OnnxInt8Embedder(onnx, path / "tokenizer.json")
        else:
            _EMBEDDERS[key] = SentenceTransformerEmbedder(path, settings.device)
    return _EMBEDDERS[key]


def index_adapters(settings: Settings, embedder: Embedder | None = None) -> IndexAdapters:
    """The catalog, vector store, embedder and embedding cache an index is built and read with.

    ``embedder`` replaces the bundled one (a test's, or one already loaded); its vectors are
    cached under its own id and never taken from the card seed (which holds the bundled one's).
    """
    from mentor_local.embedding import EMBEDDER_IDS
    from mentor_local.index import card_seed
    from mentor_local.index.ports import IndexAdapters
    from mentor_local.paths import app_home
    from mentor_local.store.chroma import ChromaVectors, make_client
    from mentor_local.store.embed_cache import CachedEmbedder, EmbeddingCache
    from mentor_local.store.keyword import Catalog

    def pick_embedder(built_with: str | None) -> str:
        # with ``auto``, an index is always searched with the embedder that built it
        if settings.embedder == "auto" and built_with is not None and built_with in EMBEDDER_IDS:
            return built_with
        return embedder_id_for(settings)

    def load_embedder(model_id: str) -> Embedder:
        return embedder if embedder is not None else make_embedder(settings, model_id)

    def cache_embeddings(inner: Embedder) -> CachedEmbedder:
        seed = card_seed.card_seed_path() if embedder is None else None
        key = (embedder or inner).model_id
        return CachedEmbedder(inner, EmbeddingCache(app_home(settings.home) / "cache" / "embeddings.sqlite", key, seed))

    def open_catalog(path: Path, readonly: bool) -> Catalog:
        return Catalog(path, readonly=readonly)

    def open_vectors(folder: Path) -> ChromaVectors:
        return ChromaVectors(make_client(None if settings.chroma_url else folder, settings.chroma_url))

    return IndexAdapters(open_catalog=open_catalog, pick_embedder=pick_embedder, load_embedder=load_embedder,
                         open_vectors=open_vectors, cache_embeddings=cache_embeddings,
                         local_vectors=not settings.chroma_url)


def make_chat_model(settings: Settings, model: str | Path | None = None, *, llm_mode: str = "auto",
                    temperature: float = 0.2) -> ChatModel:
    """The chat model the settings name: a model server (``llm_url``), else the local GGUF in its own process.

    The local model starts loading now and this returns at once; its first call waits for the load.
    """
    if settings.llm_url:
        from mentor_local.answer.backends.openai_http import OpenAIHTTPBackend

        return OpenAIHTTPBackend(settings.llm_url, n_ctx=settings.n_ctx, mode="chat" if llm_mode == "chat" else "auto",
                                 temperature=temperature)
    # In its own process: a native crash fails one answer, not the app.
    from mentor_local.answer.backends.local import local_model_for

    return local_model_for(settings, model, temperature=temperature)


def probe_model(path: Path) -> ProbeResult:
    """Load the GGUF at ``path`` in a child process and say what it is (a malformed file fails there, not here)."""
    from mentor_local.answer.backends.probe import probe_gguf

    return probe_gguf(path)


def embedder_report(settings: Settings) -> str:
    """The embedder a new index gets, and where its files are (``mentor doctor``)."""
    from mentor_local.embedding import INT8_ID
    from mentor_local.models import embedder_path, int8_embedder_path

    chosen = embedder_id_for(settings)
    if chosen == INT8_ID:
        onnx = int8_embedder_path()
        state = "ready" if onnx.is_file() else "not exported yet (make setup, or the first index, does it once)"
        return f"{chosen} (int8 ONNX, {state}: {onnx}); weights from {embedder_path()}"
    return f"{chosen} (fp32 sentence-transformers) from {embedder_path()}"


def llama_report() -> str:
    """The llama-cpp-python version and whether it can offload to a GPU (``mentor doctor``)."""
    import llama_cpp

    gpu = bool(llama_cpp.llama_supports_gpu_offload())
    return f"llama-cpp-python {llama_cpp.__version__}; GPU offload compiled in: {'yes' if gpu else 'no'}"


def torch_report() -> str:
    """The torch version and whether the fp32 embedder can use CUDA (``mentor doctor``)."""
    import torch

    cuda = torch.cuda.is_available()
    return f"torch {torch.__version__}; CUDA for the fp32 embedder: {'yes' if cuda else 'no'}"
