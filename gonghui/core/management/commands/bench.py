"""`python manage.py bench <name> [options]`: benchmarks that print their figures.

Each app may define `benchmarks.py` with `BENCHMARKS = {name: (add_arguments, run)}`; `run`
takes the parsed options and returns a dict printed as the final JSON line."""

import argparse
import importlib
import json
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

Benchmark = tuple[Callable[[argparse.ArgumentParser], None], Callable[..., dict[str, Any]]]


def discover() -> dict[str, Benchmark]:
    found: dict[str, Benchmark] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("gonghui."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.benchmarks")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.benchmarks":
                continue
            raise
        found.update(module.BENCHMARKS)
    return found


class Command(BaseCommand):
    help = "Run a benchmark and print its figures (final line is JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="benchmark", required=True, parser_class=argparse.ArgumentParser)
        for name, (add_arguments, _run) in sorted(discover().items()):
            add_arguments(subparsers.add_parser(name))

    def handle(self, *args: Any, **options: Any) -> None:
        benchmarks = discover()
        name = options["benchmark"]
        if name not in benchmarks:
            raise CommandError(f"unknown benchmark {name!r}; known: {', '.join(sorted(benchmarks))}")
        _add, run = benchmarks[name]
        result = run(stdout=self.stdout, **options)
        self.stdout.write(json.dumps(result, ensure_ascii=False))
