"""Collectors: the backends that observe ML work and produce evidence records.

What a control needs is declared in the catalog (its evidence rule); how evidence of a kind is
produced lives here. Collectors return records and never write them: the capture layer
(:mod:`aims_mlops._api`) adds session context, turns failures into ``error`` records and stores.
"""
