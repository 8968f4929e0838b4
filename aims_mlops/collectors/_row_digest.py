"""The row-set digest: a full-content SHA-256 of a table that ignores row order and partitioning.

Construction ``aims-rowset-v1`` (the same on pandas and on Spark, where it runs in the cluster):

1. Every column gets a *type tag* from its logical type: ``i`` integer, ``f`` floating point,
   ``b`` boolean, ``s`` string, ``d`` date, ``t`` timestamp, ``e`` decimal, ``x`` binary, ``j``
   anything else (Spark arrays, maps, structs as ``to_json``; pandas lists/dicts as JSON).
2. Every row is serialized canonically: for each column in order, a null is ``N``, any other
   value is ``<tag><length>:<text>`` (length in Unicode code points), where the text is the
   decimal integer; for floats Java's ``Double.toHexString`` form (``0x1.8p1``: exact, every bit
   of the double; ``Infinity``, ``-Infinity``; ``-0.0`` stays distinct from ``0.0``; NaN is
   missing, ``N``, on both engines, as pandas and the pandas <-> Spark conversions treat it);
   ``true``/``false``; the string itself; ``yyyy-mm-dd``; microseconds since the Unix epoch
   (an instant); the decimal's string; lower-case hex. The length prefix makes the
   serialization unambiguous: no two different rows of one schema serialize alike.
3. Each row's serialization (UTF-8) is hashed with SHA-256, the 256-bit values are **added
   modulo 2^256** (on Spark: eleven 24-bit limbs summed as 64-bit integers in one aggregation,
   exact up to 2^39 rows, the carries folded on the driver). A sum does not depend on row
   order or partitioning, and unlike XOR it counts duplicates: a repeated row changes the
   digest.
4. The digest is SHA-256 of the canonical JSON ``{"construction", "columns": [[name, tag], ...],
   "rows": n, "sum": <64 hex digits>}``: column names, their types and the row count are bound
   too.

Collision properties: for data that changes by accident or by ordinary edits, two different
row multisets share a digest with probability about 2^-256 (SHA-256 modelled as a random
function). It is *not* a cryptographic commitment against someone who builds a data set to
collide: sums of hashes (AdHash) fall to Wagner's generalized-birthday attack when the attacker
may choose many rows freely, at a cost far below 2^128. Use it to see that data changed, not to
prove to an adversary that it did not; the ordered digest (``frame_sha256``) of a pandas frame
is an ordinary SHA-256 over its bytes.

Equality across engines: a pandas frame and a Spark DataFrame with the same column names, the
same logical types and the same rows give the same digest for integer, float, boolean, string,
date and timestamp columns (pandas naive datetimes are read as UTC instants). An integer
column with missing values becomes float64 in pandas (``toPandas()``), and a float column is
not an integer column: such frames differ in their types, hence in their digests. Decimal,
binary and nested values have no such promise.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import DataError
from aims_mlops.evidence._record import canonical_json

if TYPE_CHECKING:
    import pandas as pd

CONSTRUCTION = "aims-rowset-v1"
_MODULUS = 1 << 256
# The hex digits of a row hash as (start, width) limbs of 24 bits (the last of 16), each summed
# as a 64-bit integer on Spark: exact up to 2^39 rows (Spark's ANSI mode refuses an overflow).
_LIMBS = tuple((start, min(6, 64 - start)) for start in range(0, 64, 6))
_HEX = re.compile(r"(-?)0x([01])\.([0-9a-f]+)p([+-]\d+)")

ERROR_NOT_A_FRAME = (
    "a dataset digest needs a pandas or Spark DataFrame (or a pandas Series); got {got}"
)


def _java_hex(value: float) -> str:
    """``Double.toHexString`` (what Spark's ``format_string('%a', x)`` prints) of a float."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    match = _HEX.fullmatch(float.hex(value))
    if match is None:  # float.hex always has this form; a failure is a bug, not bad data
        raise AssertionError(f"unexpected float.hex form: {float.hex(value)}")
    sign, lead, fraction, exponent = match.groups()
    return f"{sign}0x{lead}.{fraction.rstrip('0') or '0'}p{int(exponent)}"


def _field(tag: str, text: str) -> str:
    return f"{tag}{len(text)}:{text}"


_OBJECT_TAGS = {
    "string": "s",
    "empty": "s",
    "integer": "i",
    "floating": "f",
    "mixed-integer-float": "f",
    "boolean": "b",
    "date": "d",
    "datetime": "t",
    "datetime64": "t",
    "decimal": "e",
    "bytes": "x",
}


def _pandas_tag(series: pd.Series) -> str:
    import pandas as pd
    from pandas.api import types

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _pandas_tag(pd.Series(dtype.categories))
    if types.is_bool_dtype(dtype):
        return "b"
    if types.is_integer_dtype(dtype):
        return "i"
    if types.is_float_dtype(dtype):
        return "f"
    if types.is_datetime64_any_dtype(dtype):
        return "t"
    if types.is_string_dtype(dtype) and not types.is_object_dtype(dtype):
        return "s"
    return _OBJECT_TAGS.get(types.infer_dtype(series, skipna=True), "j")


def _text(tag: str, value: Any) -> str:
    import json

    import pandas as pd

    if tag == "i":
        return str(int(value))
    if tag == "f":
        return _java_hex(float(value))
    if tag == "b":
        return "true" if bool(value) else "false"
    if tag == "s":
        return str(value)
    if tag == "t":
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        return str(stamp.value // 1000)
    if tag == "d":
        return value.isoformat()
    if tag == "e":
        return str(value)
    if tag == "x":
        return bytes(value).hex()
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _pandas_fields(series: pd.Series, tag: str) -> list[str]:
    import pandas as pd

    values = series.astype(object).tolist()
    out: list[str] = []
    for value in values:
        if value is None or value is pd.NA or value is pd.NaT:
            out.append("N")
        elif isinstance(value, float) and math.isnan(value):
            out.append("N")  # NaN is pandas' missing value: Spark's null (as Arrow converts it)
        else:
            out.append(_field(tag, _text(tag, value)))
    return out


def _finish(columns: list[list[str]], rows: int, total: int) -> str:
    payload = {
        "construction": CONSTRUCTION,
        "columns": columns,
        "rows": rows,
        "sum": f"{total % _MODULUS:064x}",
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def pandas_row_set_digest(frame: Any) -> str:
    """The ``aims-rowset-v1`` digest of a pandas DataFrame or Series (row order ignored)."""
    import pandas as pd

    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise DataError(ERROR_NOT_A_FRAME.format(got=type(frame).__name__))
    tags = [_pandas_tag(frame.iloc[:, i]) for i in range(frame.shape[1])]
    fields = [_pandas_fields(frame.iloc[:, i], tag) for i, tag in enumerate(tags)]
    total = 0
    sha256 = hashlib.sha256
    if fields:
        for parts in zip(*fields, strict=True):
            total += int.from_bytes(sha256("".join(parts).encode("utf-8")).digest(), "big")
    else:
        total = len(frame) * int.from_bytes(sha256(b"").digest(), "big")
    columns = [[str(name), tag] for name, tag in zip(frame.columns, tags, strict=True)]
    return _finish(columns, len(frame), total)


# -- Spark ---------------------------------------------------------------------------------------
def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _spark_tag_and_text(field: Any) -> tuple[str, Any]:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    column = F.col(_quoted(field.name))
    dtype = field.dataType
    if isinstance(dtype, T.ByteType | T.ShortType | T.IntegerType | T.LongType):
        return "i", column.cast("string")
    if isinstance(dtype, T.FloatType | T.DoubleType):
        value = column.cast("double")
        text = (
            F.when(value == F.lit(float("inf")), F.lit("Infinity"))
            .when(value == F.lit(float("-inf")), F.lit("-Infinity"))
            .otherwise(F.format_string("%a", value))
        )
        return "f", text
    if isinstance(dtype, T.BooleanType):
        return "b", column.cast("string")
    if isinstance(dtype, T.StringType | T.VarcharType | T.CharType):
        return "s", column.cast("string")
    if isinstance(dtype, T.DateType):
        return "d", column.cast("string")
    if isinstance(dtype, T.TimestampType):
        return "t", F.unix_micros(column).cast("string")
    if isinstance(dtype, T.DecimalType):
        return "e", column.cast("string")
    if isinstance(dtype, T.BinaryType):
        return "x", F.lower(F.hex(column))
    if isinstance(dtype, T.ArrayType | T.MapType | T.StructType):
        return "j", F.to_json(column)
    return "j", column.cast("string")


def spark_row_set_digest(df: Any) -> str:
    """The ``aims-rowset-v1`` digest of a Spark DataFrame, computed in one aggregation."""
    return spark_row_set_digest_and_count(df)[0]


def spark_row_set_digest_and_count(df: Any) -> tuple[str, int]:
    """The ``aims-rowset-v1`` digest of a Spark DataFrame and its row count (one Spark job)."""
    from pyspark.sql import functions as F

    tags: list[str] = []
    fields = []
    for field in df.schema.fields:
        tag, text = _spark_tag_and_text(field)
        tags.append(tag)
        encoded = F.concat(F.lit(tag), F.char_length(text).cast("string"), F.lit(":"), text)
        missing = F.col(_quoted(field.name)).isNull()
        if tag == "f":  # NaN counts as missing, as pandas and the pandas<->Spark conversions do
            missing = missing | F.isnan(F.col(_quoted(field.name)).cast("double"))
        fields.append(F.when(missing, F.lit("N")).otherwise(encoded))
    row = F.concat(*fields) if fields else F.lit("")
    hashed = F.sha2(row, 256)
    limbs = []
    for start, width in _LIMBS:
        limb = F.conv(F.substring(hashed, 1 + start, width), 16, 10).cast("bigint")
        limbs.append(F.sum(limb))
    result = df.agg(F.count(F.lit(1)), *limbs).collect()[0]
    rows = int(result[0])
    total = 0
    for k, (start, width) in enumerate(_LIMBS):
        limb = result[1 + k]
        total += (int(limb) if limb is not None else 0) << (4 * (64 - start - width))
    columns = [[field.name, tag] for field, tag in zip(df.schema.fields, tags, strict=True)]
    return _finish(columns, rows, total), rows


__all__ = [
    "CONSTRUCTION",
    "pandas_row_set_digest",
    "spark_row_set_digest",
    "spark_row_set_digest_and_count",
]
