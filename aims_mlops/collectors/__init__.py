"""Collectors: the backends that observe ML work and produce evidence records.

What a control needs is declared in the catalog (its evidence rule); how evidence of a kind is
produced lives here. Collectors return records and never write them: the capture layer
(:mod:`aims_mlops.capture`) adds session context, turns failures into ``error`` records and stores.
"""

from aims_mlops.collectors._fairness import (
    FairnessOptions,
    FairnessResult,
    disparities,
    fairness_record,
    group_table,
    select_sensitive,
)
from aims_mlops.collectors._monitoring import FeatureDrift, population_stability_index
from aims_mlops.collectors._thresholds import ThresholdCheck, judge_thresholds
from aims_mlops.collectors.backends import feature_drift, monitoring_record

__all__ = [
    "FairnessOptions",
    "FairnessResult",
    "FeatureDrift",
    "ThresholdCheck",
    "disparities",
    "fairness_record",
    "feature_drift",
    "group_table",
    "judge_thresholds",
    "monitoring_record",
    "population_stability_index",
    "select_sensitive",
]
