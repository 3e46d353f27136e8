"""Every benchmark part imports: a renamed module must not wait for the next bench run to fail."""

import importlib

import pytest

from bench.run import PARTS


@pytest.mark.parametrize("module", sorted({module for _name, module in PARTS.values()}))
def test_each_bench_part_and_the_report_import(module):
    importlib.import_module(module)
    assert callable(importlib.import_module(module).run)
    importlib.import_module("bench.report")
