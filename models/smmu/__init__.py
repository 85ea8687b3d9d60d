"""Functional reference SMMUv3 (no timing): the scoreboard's predictor and a fast backend."""
