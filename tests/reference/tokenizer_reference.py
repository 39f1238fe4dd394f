#!/usr/bin/python3
"""Encodes texts with Python's sentencepiece (Debian's python3-sentencepiece), to check that a model
trained by primer-data loads there and gives the same ids as primer's C++ tokenizer.

Usage: /usr/bin/python3 tokenizer_reference.py MODEL INPUT.json OUTPUT.json
INPUT.json is a list of strings; OUTPUT.json gets the list of id lists and the piece count."""
import json
import sys

import sentencepiece

model = sentencepiece.SentencePieceProcessor(model_file=sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as f:
    texts = json.load(f)
with open(sys.argv[3], "w") as f:
    json.dump({"vocab_size": model.get_piece_size(), "ids": [model.encode(text) for text in texts]}, f)
