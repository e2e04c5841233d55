"""Registers ``colouru train`` and ``colouru evaluate`` on the main command line."""

from __future__ import annotations


def add_subcommands(sub) -> None:
    from colouru.training import evaluate, train

    train.add_parser(sub)
    evaluate.add_parser(sub)
