"""Integrations: thin adapters that plug aims_mlops into the tools teams already run.

- ``mlflow_plugin``: the ``mlflow.run_context_provider`` entry point that tags each run with its
  AI system and config digest;
- ``ipython``: ``%load_ext aims_mlops`` and the ``%aims`` magics;
- ``gx_action``: a Great Expectations checkpoint action that records data-quality evidence
  (import it before loading a stored checkpoint that names ``type: aims_evidence``);
- ``webhook``: an MLflow model-registry webhook receiver that gates promotions;
- ``_widgets``: ``aims_mlops.dashboard`` / ``portfolio``, the read-only views wired to the
  session and to capture (the attestation form's callback).

Each is imported explicitly by whoever uses it; none registers anything as an import side effect.
"""
