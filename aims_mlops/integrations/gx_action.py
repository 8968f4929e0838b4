"""A Great Expectations 1.x checkpoint action that records data-quality evidence.

Add it to a Checkpoint's actions and every validation result the checkpoint produces becomes a
``data_quality`` evidence record (speaking to the controls the catalog names for that kind), with
the same content and the same rule on row values as :func:`aims_mlops.check_data`::

    from aims_mlops.integrations.gx_action import AimsEvidenceAction

    checkpoint = gx.Checkpoint(
        name="nightly", validation_definitions=[vd],
        actions=[AimsEvidenceAction(system="credit-scoring", run_id=mlflow_run_id)],
    )

Importing this module imports Great Expectations (it is for projects that already use it).
The action's ``type`` is ``"aims_evidence"``, so a stored checkpoint configuration names it.
"""

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from great_expectations.checkpoint.actions import ValidationAction
from great_expectations.compatibility.pydantic import Field

from aims_mlops import capture
from aims_mlops.collectors._data_quality import (
    KIND,
    record_from_summary,
    summarize_validation,
)
from aims_mlops.evidence import EvidenceRecord, Subject

if TYPE_CHECKING:
    from great_expectations.checkpoint.actions import ActionContext
    from great_expectations.checkpoint.checkpoint import CheckpointResult

ACTION_TYPE = "aims_evidence"


def _dataset_name(identifier: Any, meta: Mapping[str, Any]) -> str:
    """``datasource/asset`` of the validated batch (GE's batch identifier as a fallback)."""
    batch = meta.get("active_batch_definition") or {}
    if isinstance(batch, Mapping) and batch.get("datasource_name"):
        return f"{batch['datasource_name']}/{batch.get('data_asset_name')}"
    return str(getattr(identifier, "batch_identifier", None) or "dataset")


def _row_count(summary: Mapping[str, Any]) -> int | None:
    """The batch's row count as the results reveal it: a column-map ``element_count``, or the
    observed value of a row-count expectation. None when no result says."""
    counts: list[int] = []
    for check in summary["results"]:
        if isinstance(check.get("element_count"), int):
            counts.append(check["element_count"])
        elif check["type"].startswith("expect_table_row_count") and isinstance(
            check.get("observed_value"), int
        ):
            counts.append(check["observed_value"])
    return max(counts) if counts else None


def validation_record(
    validation: Any,
    *,
    system: str | None,
    include_values: bool = False,
    identifier: Any = None,
    checkpoint: str | None = None,
    subject: Subject | None = None,
    config_digest: str | None = None,
) -> EvidenceRecord:
    """The ``data_quality`` record of one GE ``ExpectationSuiteValidationResult``.

    The data frame itself is not available to an action: the record has no full-content digest
    (``details.gx_fingerprint`` holds GE's own batch fingerprint when GE computed one) and
    ``row_count`` only when a result reveals it.
    """
    meta: Mapping[str, Any] = validation.meta or {}
    summary = summarize_validation(validation, include_values=include_values)
    markers = meta.get("batch_markers") or {}
    fingerprint = markers.get("pandas_data_fingerprint") if isinstance(markers, Mapping) else None
    return record_from_summary(
        summary,
        name=_dataset_name(identifier, meta),
        system=system,
        subject=subject,
        config_digest=config_digest,
        row_count=_row_count(summary),
        extra_details={
            "suite": getattr(validation, "suite_name", None),
            "checkpoint": checkpoint,
            "gx_fingerprint": fingerprint,
        },
    )


class AimsEvidenceAction(ValidationAction):
    """Turn each validation result of a checkpoint run into ``data_quality`` evidence.

    Records go to :func:`aims_mlops.capture.capture` (stored with the MLflow run ``run_id``, or
    as system-level evidence; a failure becomes an ``error`` record and a warning), or to
    ``sink`` when one is given: a callable receiving each record. ``sink`` is not serialized, so
    a checkpoint loaded back from a context's store has none and stores through capture.
    """

    type: Literal["aims_evidence"] = ACTION_TYPE
    name: str = ACTION_TYPE
    system: str | None = None
    include_values: bool = False
    run_id: str | None = None
    sink: Callable[[EvidenceRecord], object] | None = Field(default=None, exclude=True)

    def run(
        self, checkpoint_result: "CheckpointResult", action_context: "ActionContext | None" = None
    ) -> dict[str, Any]:
        """Record every validation result; return ``{"records": [record ids]}``."""
        context = capture.get_session().context(
            system=capture.resolve_system(self.system), for_run=self.run_id is not None
        )
        system = context.system
        config_digest = context.config_digest
        record_ids: list[str] = []
        for identifier, validation in checkpoint_result.run_results.items():

            def produce(
                identifier: Any = identifier, validation: Any = validation
            ) -> EvidenceRecord:
                return validation_record(
                    validation,
                    system=system,
                    include_values=self.include_values,
                    identifier=identifier,
                    checkpoint=checkpoint_result.name,
                    subject=Subject(run_id=self.run_id),
                    config_digest=config_digest,
                )

            if self.sink is not None:
                record = produce()
                self.sink(record)
            else:
                record = capture.capture(context, KIND, produce=produce, run_id=self.run_id)
            record_ids.append(record.id)
        return {"records": record_ids}
