"""The AIMS configuration: ``aims.yaml``.

``aims.yaml`` is where an organization declares its AI management system: the organization and
the AIMS scope, risk criteria (likelihood and impact levels, the risk appetite), where evidence is
stored, the AI systems (owner, intended use, lifecycle stage, MLflow experiment and registered
model, data-quality expectations, fairness and performance thresholds, monitoring), the risk
register, impact assessments and the Statement of Applicability (which controls apply, and why an
excluded one is excluded).

:func:`load_config` / :func:`parse_config` return a frozen :class:`AimsConfig`, or raise
:class:`~aims_mlops.ConfigError` listing every problem as ``aims.yaml:LINE: field.path: message``.
"""

from __future__ import annotations

from aims_mlops._errors import ConfigError
from aims_mlops.config._loader import (
    config_digest,
    default_config_path,
    example_config_text,
    load_config,
    parse_config,
)
from aims_mlops.config._models import (
    DEFAULT_IMPACT_LABELS,
    DEFAULT_LIKELIHOOD_LABELS,
    AimsConfig,
    AuditProgramme,
    CaptureSettings,
    DataQuality,
    DocumentSettings,
    EuAiAct,
    Expectation,
    ImpactAssessment,
    IndicatorKind,
    LifecycleStage,
    ManagementReviewSettings,
    MlflowBinding,
    MonitoringSettings,
    Organization,
    Person,
    ResidualRisk,
    Risk,
    RiskCategory,
    RiskCriteria,
    RiskIndicator,
    SoaDecision,
    StoreSettings,
    SystemConfig,
    Threshold,
    Treatment,
    TrustSettings,
)

__all__ = [
    "DEFAULT_IMPACT_LABELS",
    "DEFAULT_LIKELIHOOD_LABELS",
    "AimsConfig",
    "AuditProgramme",
    "CaptureSettings",
    "ConfigError",
    "DataQuality",
    "DocumentSettings",
    "EuAiAct",
    "Expectation",
    "ImpactAssessment",
    "IndicatorKind",
    "LifecycleStage",
    "ManagementReviewSettings",
    "MlflowBinding",
    "MonitoringSettings",
    "Organization",
    "Person",
    "ResidualRisk",
    "Risk",
    "RiskCategory",
    "RiskCriteria",
    "RiskIndicator",
    "SoaDecision",
    "StoreSettings",
    "SystemConfig",
    "Threshold",
    "Treatment",
    "TrustSettings",
    "config_digest",
    "default_config_path",
    "example_config_text",
    "load_config",
    "parse_config",
]
