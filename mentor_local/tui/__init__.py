"""The terminal app (``mentor-tui``): chat, sources, findings and a code viewer.

Importing this package must stay light: the app paints before any heavy
library (chromadb, torch, llama_cpp, sentence_transformers) is loaded.
"""
