"""The main job, end to end on the embedded default: train an income classifier on the bundled
UCI Adult data with capture on, register it, and judge it against ISO/IEC 42001.

Run it with ``aims demo`` (or ``python -m aims_mlops.demo``). Everything lands in one folder: a
local MLflow sqlite store (``mlflow.db`` + ``mlruns/``), the ``aims.yaml`` it was judged under,
a sample AI policy document that the demo attests to, and the system's HTML report. It ends with
one screen (:func:`closing_text`): where the system stands, the report, and what to open next.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import aims_mlops as aims
from aims_mlops._errors import AimsError
from aims_mlops._files import write_atomically
from aims_mlops.capture import approve_configuration
from aims_mlops.config._starter import person_key_file, write_starter
from aims_mlops.datasets import ADULT_ATTRIBUTION, load_adult
from aims_mlops.engine import summary_dict
from aims_mlops.evidence._signing import KEYS_DIR
from aims_mlops.judgement import judge
from aims_mlops.presentation import summary_text
from aims_mlops.reports import annex_iv, render_annex_iv, render_html

if TYPE_CHECKING:
    from aims_mlops.engine import SystemAssessment

SYSTEM = "income-classifier"
FEATURES_NUMERIC = ("age", "education_num", "capital_gain", "capital_loss", "hours_per_week")
FEATURES_CATEGORICAL = ("workclass", "marital_status", "occupation", "relationship", "sex", "race")

#: Who approves the demo's configuration and attests its AI policy (top management).
DEMO_APPROVER = "Chief Risk Officer"
#: The report the demo writes into its folder.
REPORT_NAME = f"{SYSTEM}-report.html"
#: The EU AI Act technical documentation (Annex IV) it writes beside it.
ANNEX_IV_NAME = f"{SYSTEM}-annex-iv.html"
#: The demo's steps, in order (shown on stderr as ``demo [3/8] ...``).
STEPS = (
    "setting up {workdir}",
    "loading the UCI Adult data (bundled)",
    "checking data quality (Great Expectations)",
    "training a logistic regression",
    "validating performance and fairness (fairlearn)",
    "registering the model as {alias}",
    "attesting the sample AI policy",
    "judging the system and writing its HTML report",
)
#: The first step's text when the folder already holds a demo store, and with ``--fresh``.
STEP_AGAIN = (
    "setting up {workdir}: it already holds a demo store, so this run adds a new version of "
    "the model to it (`aims demo --fresh` starts afresh)"
)
STEP_FRESH = "setting up {workdir} afresh: its previous store ({removed}) removed"
#: What the demo writes into its folder's store (``--fresh`` removes these, nothing else).
STORE_PARTS = ("mlflow.db", "mlruns", ".aims")
#: Lines MLflow prints (not logs) when a model is registered: left out unless verbose.
REGISTRY_NOTICES = (
    "Successfully registered model ",
    "Registered model ",  # "... already exists. Creating a new version of this model..."
    "Created version ",
)

POLICY_TEXT = """# Example Lending Ltd — AI policy (sample)
Approved by the board on 2026-09-30. Every AI system has a named owner, a risk assessment and an
impact assessment before deployment; models that affect applicants are checked for group fairness
and data quality on every training run; production models are monitored weekly.
"""


@dataclass(frozen=True, kw_only=True)
class DemoResult:
    """What the demo produced: where, which run and model version, the report and the summary."""

    workdir: Path
    tracking_uri: str
    run_id: str
    model_version: str
    report: Path
    annex_iv: Path
    summary: dict[str, Any]


class Progress:
    """Numbered step lines on a stream (stderr), with the seconds since the demo began."""

    def __init__(self, *, stream: TextIO | None = None, enabled: bool = True) -> None:
        self._stream = stream
        self._enabled = enabled
        self._started = time.monotonic()
        self._done = 0

    def step(self, text: str) -> None:
        self._done += 1
        if not self._enabled:
            return
        stream = self._stream or sys.stderr
        minutes, seconds = divmod(int(time.monotonic() - self._started), 60)
        stream.write(f"demo {minutes}:{seconds:02d} [{self._done}/{len(STEPS)}] {text}\n")
        stream.flush()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._started


class _WithoutNotices(io.TextIOBase):
    """A stream passing every line on except MLflow's model-registry notices."""

    def __init__(self, target: TextIO) -> None:
        self._target = target
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            if not line.startswith(REGISTRY_NOTICES):
                self._target.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending and not self._pending.startswith(REGISTRY_NOTICES):
            self._target.write(self._pending)
        self._pending = ""
        self._target.flush()


@contextlib.contextmanager
def _registry_notices_hidden(hidden: bool) -> Iterator[None]:
    """Leave MLflow's "Successfully registered model" lines out of stderr (nothing else)."""
    if not hidden:
        yield
        return
    stream = _WithoutNotices(sys.stderr)
    try:
        with contextlib.redirect_stderr(stream):  # type: ignore[type-var]
            yield
    finally:
        stream.flush()


@contextlib.contextmanager
def _library_chatter_hidden(hidden: bool) -> Iterator[None]:
    """Leave MLflow's advisory UserWarnings (dataset source guesses, schema hints) and pyspark's
    pandas-version notice out of the demo's screen; ``aims demo -v`` shows them."""
    if not hidden:
        yield
        return
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"mlflow(\.|$)")
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        yield


#: Advisory warnings MLflow gives about the example data, not problems with it: (message start,
#: module the warning is issued from). A citation given as a dataset's source makes MLflow guess
#: the source type; the Adult data's integer columns have no missing values.
KNOWN_MLFLOW_WARNINGS = (
    ("The specified dataset source can be interpreted in multiple ways", r"mlflow\.data\."),
    ("Hint: Inferred schema contains integer column", r"mlflow\.types\."),
)


#: MLflow log lines that are advice, not news, for the example notebooks: (logger, message start).
#: Saving a scikit-learn model as cloudpickle (a format the notebook chose) logs a caution.
KNOWN_MLFLOW_LOGS = (
    ("mlflow.sklearn", "Saving scikit-learn models in the pickle or cloudpickle format"),
)


class _KnownLogsLeftOut(logging.Filter):
    """Drops a logger's records whose message starts with one of ``starts`` (nothing else)."""

    def __init__(self, starts: tuple[str, ...]) -> None:
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.starts)


def quiet_mlflow() -> None:
    """For the example notebooks: MLflow's logging at WARNING (its INFO lines about creating
    tables and experiments are not the reader's business; a level already set in
    ``$MLFLOW_LOGGING_LEVEL`` is kept), and :data:`KNOWN_MLFLOW_WARNINGS` and
    :data:`KNOWN_MLFLOW_LOGS` filtered where they are issued (every other warning and log line
    still shows). Calling it again adds nothing. MLflow prints its model-registry notices
    ("Created version ...") rather than logging them: :func:`quiet_registry` leaves them out."""
    import warnings

    level = os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # read when mlflow loads
    if "mlflow" in sys.modules:  # already loaded: set the level it would have read
        logging.getLogger("mlflow").setLevel(level.upper())
    for message, module in KNOWN_MLFLOW_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning, module=module)
    for name in {logger for logger, _ in KNOWN_MLFLOW_LOGS}:
        source = logging.getLogger(name)
        if not any(isinstance(f, _KnownLogsLeftOut) for f in source.filters):
            starts = tuple(start for logger, start in KNOWN_MLFLOW_LOGS if logger == name)
            source.addFilter(_KnownLogsLeftOut(starts))


def quiet_registry() -> contextlib.AbstractContextManager[None]:
    """``with quiet_registry(): mlflow.sklearn.log_model(..., registered_model_name=...)``:
    MLflow's "Successfully registered model" / "Created version" lines left out of stderr
    (every other line passes)."""
    return _registry_notices_hidden(True)


def build_model(*, unfair: bool = False) -> Any:
    """A scikit-learn pipeline for the Adult data (``unfair`` predicts from ``sex`` alone)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = list(FEATURES_NUMERIC)
    categorical = ["sex"] if unfair else list(FEATURES_CATEGORICAL)
    transformers: list[Any] = [
        (
            "categorical",
            Pipeline(
                [
                    ("impute", SimpleImputer(strategy="most_frequent")),
                    ("encode", OneHotEncoder(handle_unknown="ignore")),
                ]
            ),
            categorical,
        )
    ]
    if not unfair:
        transformers.insert(0, ("numeric", StandardScaler(), numeric))
    return Pipeline(
        [
            ("features", ColumnTransformer(transformers)),
            ("classifier", LogisticRegression(max_iter=500, C=1.0)),
        ]
    )


def train_and_capture(
    *,
    tracking_uri: str,
    config_path: Path,
    unfair: bool = False,
    register: bool = True,
    step: Callable[[str], None] | None = None,
    registry_notices: bool = True,
) -> tuple[str, str | None]:
    """One training run with capture on; returns (run id, registered model version).

    The experiment, registered model and alias are the ones ``aims.yaml`` binds the system to.
    ``step`` is told when each stage starts (see :data:`STEPS`); ``registry_notices=False``
    leaves MLflow's "Successfully registered model" lines out of stderr.
    """
    say = step or (lambda _text: None)
    import mlflow
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    session = aims.init(system=SYSTEM, config=config_path, tracking_uri=tracking_uri, quiet=True)
    binding = session.config.system(SYSTEM).mlflow if session.config is not None else None
    experiment = (binding.experiment if binding else None) or SYSTEM
    registered_model = (binding.registered_model if binding else None) or SYSTEM
    alias = binding.alias if binding else "champion"
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    say(STEPS[1])
    train, test = load_adult("train"), load_adult("test")
    features = [*FEATURES_NUMERIC, *FEATURES_CATEGORICAL]
    # the training code is this module: name it as the run's source so lineage hashes it
    source = {"mlflow.source.name": str(Path(__file__).resolve()), "mlflow.source.type": "LOCAL"}
    with mlflow.start_run(run_name="unfair-baseline" if unfair else "logreg", tags=source) as run:
        say(STEPS[2])
        aims.check_data(train, name="adult-train")
        mlflow.log_input(
            mlflow.data.from_pandas(
                train, source=ADULT_ATTRIBUTION, targets="label", name="adult-train"
            ),
            context="training",
        )
        mlflow.log_input(
            mlflow.data.from_pandas(
                test, source=ADULT_ATTRIBUTION, targets="label", name="adult-test"
            ),
            context="evaluation",
        )
        say(STEPS[3])
        model = build_model(unfair=unfair)
        model.fit(train[features], train["label"])
        mlflow.log_params(
            {
                "model": "LogisticRegression",
                "C": 1.0,
                "max_iter": 500,
                "variant": "unfair-baseline" if unfair else "logreg",
            }
        )
        scores = model.predict_proba(test[features])[:, 1]
        # the unfair baseline scores by sex alone; thresholding it at the base rate gives every
        # man a positive and every woman a negative: a demographic parity difference of 1
        threshold = float(train["label"].mean()) if unfair else 0.5
        predictions = (scores >= threshold).astype(int)
        metrics = {
            "accuracy": float(accuracy_score(test["label"], predictions)),
            "roc_auc": float(roc_auc_score(test["label"], scores)),
            "f1": float(f1_score(test["label"], predictions)),
        }
        mlflow.log_metrics(metrics)
        say(STEPS[4])
        aims.validate_performance(metrics)
        aims.assess_fairness(test["label"], predictions, test)
        version = None
        if register:
            say(STEPS[5].format(alias=alias))
            with _registry_notices_hidden(not registry_notices):
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    registered_model_name=registered_model,
                    input_example=train[features].head(3),
                    # OneHotEncoder keeps its dtype; skops must be told numpy dtypes are safe
                    skops_trusted_types=["numpy.dtype"],
                )
            version = str(info.registered_model_version)
    if version is not None:
        mlflow.MlflowClient(tracking_uri=tracking_uri).set_registered_model_alias(
            registered_model, alias, version
        )
    return run.info.run_id, version


def prepare_workdir(workdir: Path, *, fresh: bool = False) -> str:
    """Make ``workdir`` and say what this demo run will do there (the first step's text).

    A folder that already holds a demo store gets a new model version in it; ``fresh`` removes
    that store first (``mlflow.db``, ``mlruns/``, ``.aims/``: nothing else in the folder).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    present = [name for name in STORE_PARTS if (workdir / name).exists()]
    if not present:
        return STEPS[0].format(workdir=workdir)
    if not fresh:
        return STEP_AGAIN.format(workdir=workdir)
    for name in present:
        path = workdir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return STEP_FRESH.format(workdir=workdir, removed=", ".join(present))


def run_demo(
    workdir: Path | str = "aims-demo",
    *,
    quiet: bool = False,
    verbose: bool = False,
    progress: bool = False,
    fresh: bool = False,
) -> DemoResult:
    """Set up ``workdir`` (config, policy, store), train with capture, judge the system, write
    its HTML report into ``workdir`` and (unless ``quiet``) print :func:`closing_text`.

    ``progress`` writes a line per step on stderr; ``verbose`` keeps MLflow's registry notices;
    ``fresh`` removes a store an earlier demo left in ``workdir`` (else a new version is added).
    """
    workdir = Path(workdir).resolve()
    steps = Progress(enabled=progress and not quiet)
    steps.step(prepare_workdir(workdir, fresh=fresh))
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    previous = Path.cwd()
    os.chdir(workdir)  # MLflow's local artifact root (./mlruns) is relative to the cwd
    try:
        config_path = workdir / "aims.yaml"
        if not config_path.exists():
            write_starter(config_path, force=True)  # keys under .aims/keys/, git-ignored
        policy = workdir / "ai-policy.md"
        if not policy.exists():
            policy.write_text(POLICY_TEXT, encoding="utf-8")
        tracking_uri = f"sqlite:///{workdir / 'mlflow.db'}"
        os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
        # the demo approves its own configuration (top management, with their own key); an
        # aims.yaml written without keys (the bare example) stays a draft, its names typed
        approver_key = _approver_key(config_path)
        if approver_key is not None:
            approve_configuration(config_path=config_path, by=DEMO_APPROVER, key=approver_key)
        with _library_chatter_hidden(not verbose):
            run_id, version = train_and_capture(
                tracking_uri=tracking_uri,
                config_path=config_path,
                step=steps.step,
                registry_notices=verbose,
            )
        steps.step(STEPS[6])
        for entry in ("A.2.2", "5.2"):
            aims.attest(
                entry,
                org=True,
                by=DEMO_APPROVER,
                document=str(policy),
                valid_days=365,
                key=approver_key,
            )
        steps.step(STEPS[7])
        judgement = judge(config=config_path, systems=[SYSTEM])
        report = workdir / REPORT_NAME
        write_atomically(report, render_html(judgement, SYSTEM))
        dossier = workdir / ANNEX_IV_NAME
        write_atomically(dossier, render_annex_iv(annex_iv(judgement, SYSTEM), "html"))
    finally:
        os.chdir(previous)
    sa = judgement.assessment.systems[SYSTEM]
    if not quiet:
        print(
            closing_text(
                sa,
                appetite=judgement.config.risk_criteria.appetite,
                workdir=workdir,
                report=report,
                dossier=dossier,
                tracking_uri=tracking_uri,
                run_id=run_id,
                model_version=version,
                seconds=steps.seconds,
            )
        )
    return DemoResult(
        workdir=workdir,
        tracking_uri=tracking_uri,
        run_id=run_id,
        model_version=version or "",
        report=report,
        annex_iv=dossier,
        summary=summary_dict(sa),
    )


#: The columns of MLflow's sqlite schema that hold a local store's absolute artifact locations
#: (never a tag: evidence JSON is content-hashed and stays byte for byte as it was).
LOCATION_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("model_versions", "storage_location"),
    ("logged_models", "artifact_location"),
)
ERROR_NOT_A_STORE = "{folder} holds no local evidence store (aims.yaml and mlflow.db)"


def scratch_copy(source: Path | str, *, prefix: str = "aims-scratch-") -> Path:
    """A copy of the local evidence store in ``source`` (``aims.yaml``, ``mlflow.db``,
    ``mlruns/`` and the rest of the folder) in a new temporary folder, whose artifact locations
    point into the copy: whatever is recorded there leaves ``source`` untouched. Of ``.aims/``
    only the public keys come along (aims.yaml names them; the spool and private keys stay)."""
    import sqlite3
    import tempfile

    origin = Path(source).resolve()
    if not (origin / "aims.yaml").is_file() or not (origin / "mlflow.db").is_file():
        raise AimsError(ERROR_NOT_A_STORE.format(folder=origin))
    target = Path(tempfile.mkdtemp(prefix=prefix)) / origin.name
    shutil.copytree(origin, target, ignore=shutil.ignore_patterns(".aims"))
    keys = origin / KEYS_DIR
    if keys.is_dir():
        shutil.copytree(keys, target / KEYS_DIR, ignore=shutil.ignore_patterns("*.key"))
    connection = sqlite3.connect(target / "mlflow.db")
    try:
        with connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            for table, column in LOCATION_COLUMNS:
                if table in tables:
                    connection.execute(
                        f"UPDATE {table} SET {column} = replace({column}, ?, ?)",
                        (str(origin), str(target)),
                    )
    finally:
        connection.close()
    return target


def _approver_key(config_path: Path) -> Path | None:
    """The private key of :data:`DEMO_APPROVER` the starter generated, if aims.yaml lists it."""
    try:
        key = person_key_file(config_path, DEMO_APPROVER)
    except KeyError:
        return None
    return key if key.is_file() else None


def _repository() -> Path | None:
    """The source checkout the package runs from (it has scripts/ and notebooks/), if any."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "scripts" / "voila.sh").is_file() else None


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _command(name: str, *, absolute: bool = False) -> str:
    """``name`` when it is on PATH, else the path of the one next to this Python (a virtual
    environment that is not activated); ``absolute`` for a command run after a ``cd``."""
    beside = Path(sys.executable).parent / name
    if shutil.which(name) is not None or not beside.is_file():
        return name
    return str(beside.absolute()) if absolute else _shown(beside.absolute())


def next_commands(workdir: Path) -> list[str]:
    """What to run next: the full listing, the read-only dashboard, the notebooks."""
    lines = [
        f"cd {_shown(workdir)} && {_command('aims', absolute=True)} summary {SYSTEM}"
        "  # every control, risk and gap",
    ]
    root = _repository()
    if root is None:
        lines.append(
            f'pip install "aims-mlops[notebook]"; in a notebook: aims_mlops.dashboard("{SYSTEM}")'
        )
        return lines
    # scripts/voila.sh works from the checkout's root: a relative AIMS_DEMO_DIR is read there
    try:
        demo_dir = str(workdir.relative_to(root))
    except ValueError:
        demo_dir = str(workdir)
    env = "" if demo_dir == "aims-demo" else f"AIMS_DEMO_DIR={demo_dir} "
    lines.append(
        f"{env}bash {_shown(root / 'scripts' / 'voila.sh')}"
        "  # the read-only dashboard on http://127.0.0.1:8866/"
    )
    lines.append(
        f"AIMS_NOTEBOOK_WORKDIR={workdir} {_command('jupyter')} lab {_shown(root / 'notebooks')}/"
        f"  # live widgets (first: bash {_shown(root / 'scripts' / 'setup.sh')} notebook)"
    )
    return lines


def closing_text(
    sa: SystemAssessment,
    *,
    appetite: int,
    workdir: Path,
    report: Path,
    tracking_uri: str,
    run_id: str,
    model_version: str | None,
    seconds: float | None = None,
    dossier: Path | None = None,
) -> str:
    """The demo's last screen: the summary (score, counts, risks above the appetite, the first
    gaps with their owners), the report it wrote, and what to run next."""
    took = f"; {seconds:.0f} s" if seconds is not None else ""
    lines = [
        summary_text(sa, appetite=appetite),
        "",
        f"report:  {_shown(report)}  (not recorded as evidence: `aims report` records one)",
        *([f"annex iv: {_shown(dossier)}  (EU AI Act technical documentation)"] if dossier else []),
        f"store:   {tracking_uri}  (run {run_id[:12]}, model version {model_version or 'none'}"
        f"{took})",
        "next:    " + "\n         ".join(next_commands(workdir)),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    run_demo(progress=True)
