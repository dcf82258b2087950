"""scikit-learn's ``FeatureHasher`` and ``HashingVectorizer``, computed by featforge.

Same constructor parameters, and ``transform`` returns a scipy CSR matrix equal to
scikit-learn's (indices, values and shape). scikit-learn itself is not needed; scipy is (it is
imported only here, so featforge's runtime dependencies stay numpy + pyarrow).

Index and sign rule (scikit-learn's): ``h = murmur3_x86_32(utf8(feature), seed=0)`` as a signed
int32; column ``abs(h) % n_features`` (with ``h == -2**31`` mapped to
``(2**31 - 1 - (n_features - 1)) % n_features``); value multiplied by ``sign(h)`` when
``alternate_sign``; duplicates summed, indices sorted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from .. import _core

_INT32_MIN = -(2**31)
_DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def _scipy_sparse() -> Any:
    try:
        import scipy.sparse as sp
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "featforge.compat.sklearn needs scipy for its sparse output: pip install scipy"
        ) from exc
    return sp


def _check_n_features(n_features: Any) -> None:
    if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)):
        raise TypeError(f"n_features must be an int, got {type(n_features).__name__}")
    if not 1 <= n_features <= np.iinfo(np.int32).max:
        raise ValueError(f"n_features must be in [1, {np.iinfo(np.int32).max}], got {n_features}")


def _csr_from_hashes(
    hashes: pa.Array | pa.ChunkedArray | tuple[np.ndarray, np.ndarray],
    values: np.ndarray | None,
    n_features: int,
    alternate_sign: bool,
    dtype: Any,
) -> Any:
    """Build scikit-learn's matrix from murmur3 hashes: a list<int32> column (one list per
    sample) or an (indptr, hashes) pair of numpy arrays."""
    sp = _scipy_sparse()
    if isinstance(hashes, tuple):
        indptr, h32 = hashes
    else:
        if isinstance(hashes, pa.ChunkedArray):
            hashes = hashes.combine_chunks()
        offsets = hashes.offsets.to_numpy()
        indptr = (offsets - offsets[0]).astype(np.int64)
        h32 = hashes.flatten().to_numpy(zero_copy_only=False)
    n_samples = len(indptr) - 1
    if n_samples == 0:
        raise ValueError("Cannot vectorize empty sequence.")
    # Few temporaries (each is as long as the output) and no division for a power-of-two width.
    if n_features & (n_features - 1) == 0:
        indices = np.abs(h32) & np.int32(n_features - 1)  # |INT32_MIN| wraps: set below
    else:
        wide = h32.astype(np.int64)  # |INT32_MIN| does not fit int32
        np.abs(wide, out=wide)
        np.remainder(wide, n_features, out=wide)
        indices = wide.astype(np.int32)
    indices[h32 == _INT32_MIN] = (2**31 - 1 - (n_features - 1)) % n_features
    if values is None and alternate_sign:
        data = np.where(h32 < 0, np.array(-1, dtype=dtype), np.array(1, dtype=dtype))
    elif values is None:
        data = np.ones(len(h32), dtype=dtype)
    else:
        data = values.astype(dtype, copy=True)
        if alternate_sign:
            np.negative(data, out=data, where=h32 < 0)
    X = sp.csr_matrix((data, indices, indptr), dtype=dtype, shape=(n_samples, n_features))
    X.sum_duplicates()  # also sorts the indices, as scikit-learn does
    return X


def _normalize_rows(X: Any, norm: str) -> None:
    """In place, like sklearn.preprocessing.normalize: per-row sums in float64, empty rows kept."""
    data = X.data
    lengths = np.diff(X.indptr)
    row_of = np.repeat(np.arange(X.shape[0]), lengths)
    wide = data.astype(np.float64)
    if norm == "l2":
        sums = np.bincount(row_of, weights=wide * wide, minlength=X.shape[0])
        scale = np.sqrt(sums)
    else:
        scale = np.bincount(row_of, weights=np.abs(wide), minlength=X.shape[0])
    per_value = scale[row_of]
    keep = per_value == 0.0
    per_value[keep] = 1.0
    data[:] = (wide / per_value).astype(data.dtype)


class FeatureHasher:
    """Drop-in for ``sklearn.feature_extraction.FeatureHasher`` (same parameters and output).

    ``transform`` also accepts an Arrow ``list<string>`` column for ``input_type="string"``,
    which skips the Python-object conversion entirely.
    """

    def __init__(
        self,
        n_features: int = 2**20,
        *,
        input_type: str = "dict",
        dtype: Any = np.float64,
        alternate_sign: bool = True,
    ) -> None:
        self.n_features = n_features
        self.input_type = input_type
        self.dtype = dtype
        self.alternate_sign = alternate_sign

    def _validate(self) -> None:
        _check_n_features(self.n_features)
        if self.input_type not in ("dict", "pair", "string"):
            raise ValueError(
                f"input_type must be 'dict', 'pair' or 'string', got {self.input_type!r}"
            )

    def fit(self, X: Any = None, y: Any = None) -> FeatureHasher:
        self._validate()
        return self

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        return self.fit(X).transform(X)

    def transform(self, raw_X: Iterable[Any]) -> Any:
        self._validate()
        values = None
        if self.input_type != "string":
            names, values = self._named_values(raw_X)
            hashes = _core_hash_lists(names)
        elif hasattr(raw_X, "__arrow_c_array__") or hasattr(raw_X, "__arrow_c_stream__"):
            hashes = _core_hash_lists(raw_X)  # an Arrow list<string> column: no Python objects
        else:
            hashes = _core.murmur3_of_samples(raw_X)
        return _csr_from_hashes(hashes, values, self.n_features, self.alternate_sign, self.dtype)

    def _named_values(self, raw_X: Any) -> tuple[pa.Array, np.ndarray]:
        names: list[list[Any]] = []
        values: list[Any] = []
        for sample in raw_X:
            items = sample.items() if self.input_type == "dict" else sample
            if self.input_type == "dict" and not isinstance(sample, Mapping):
                raise TypeError(f"input_type='dict' expects mappings, got {type(sample).__name__}")
            row = []
            for f, v in items:
                if isinstance(v, str):
                    f = f"{f}={v}"
                    v = 1
                if v == 0:
                    continue
                if not isinstance(f, (str, bytes)):
                    raise TypeError("feature names must be strings")
                row.append(f)
                values.append(v)
            names.append(row)
        try:
            arr = pa.array(names, type=pa.list_(pa.string()))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = pa.array(
                [[f.encode("utf-8") if isinstance(f, str) else f for f in row] for row in names],
                type=pa.list_(pa.binary()),
            )
        return arr, np.asarray(values, dtype=np.float64 if not values else None)


def _core_hash_lists(names: Any) -> Any:
    if not isinstance(names, (pa.Array, pa.ChunkedArray)):
        names = pa.chunked_array(names) if hasattr(names, "__arrow_c_stream__") else pa.array(names)
    if not (pa.types.is_list(names.type) or pa.types.is_large_list(names.type)):
        raise TypeError(f"expected a list<string> column of samples, got {names.type}")
    if names.null_count or pa.compute.list_flatten(names).null_count:
        raise TypeError("feature names must be strings (got None)")
    result = _core.hash(names, "murmur3", 0)
    if isinstance(result, tuple):
        return pa.chunked_array([pa.array(h) for h in result[0]], type=pa.list_(pa.int32()))
    return pa.array(result)


class HashingVectorizer:
    """Drop-in for ``sklearn.feature_extraction.text.HashingVectorizer`` (word analyzer).

    Same parameters. Supported: the default ``analyzer="word"`` with the default
    ``token_pattern``, no custom ``preprocessor``/``tokenizer``/``stop_words``/``strip_accents``
    (tokenising then runs in C++); any other setting raises ``NotImplementedError`` rather than
    giving different features.
    """

    def __init__(
        self,
        *,
        input: str = "content",
        encoding: str = "utf-8",
        decode_error: str = "strict",
        strip_accents: Any = None,
        lowercase: bool = True,
        preprocessor: Any = None,
        tokenizer: Any = None,
        stop_words: Any = None,
        token_pattern: str | None = _DEFAULT_TOKEN_PATTERN,
        ngram_range: tuple[int, int] = (1, 1),
        analyzer: Any = "word",
        n_features: int = 2**20,
        binary: bool = False,
        norm: str | None = "l2",
        alternate_sign: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        self.input = input
        self.encoding = encoding
        self.decode_error = decode_error
        self.strip_accents = strip_accents
        self.lowercase = lowercase
        self.preprocessor = preprocessor
        self.tokenizer = tokenizer
        self.stop_words = stop_words
        self.token_pattern = token_pattern
        self.ngram_range = ngram_range
        self.analyzer = analyzer
        self.n_features = n_features
        self.binary = binary
        self.norm = norm
        self.alternate_sign = alternate_sign
        self.dtype = dtype

    def _validate(self) -> tuple[int, int]:
        _check_n_features(self.n_features)
        unsupported = {
            "input": (self.input, "content"),
            "strip_accents": (self.strip_accents, None),
            "preprocessor": (self.preprocessor, None),
            "tokenizer": (self.tokenizer, None),
            "stop_words": (self.stop_words, None),
            "token_pattern": (self.token_pattern, _DEFAULT_TOKEN_PATTERN),
            "analyzer": (self.analyzer, "word"),
        }
        for name, (value, default) in unsupported.items():
            if value != default:
                raise NotImplementedError(
                    f"featforge.compat.sklearn.HashingVectorizer supports only {name}={default!r}"
                    f", got {value!r}"
                )
        if self.norm not in (None, "l1", "l2"):
            raise ValueError(f"norm must be 'l1', 'l2' or None, got {self.norm!r}")
        lo, hi = self.ngram_range
        if not 1 <= lo <= hi:
            raise ValueError(
                f"Invalid value for ngram_range={self.ngram_range} lower boundary larger than the "
                "upper boundary."
            )
        return lo, hi

    def fit(self, X: Any = None, y: Any = None) -> HashingVectorizer:
        self._validate()
        return self

    def partial_fit(self, X: Any = None, y: Any = None) -> HashingVectorizer:
        return self.fit(X, y)

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        return self.fit(X).transform(X)

    def _documents(self, X: Any) -> Any:
        if isinstance(X, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        if hasattr(X, "__arrow_c_array__") or hasattr(X, "__arrow_c_stream__"):
            return X
        docs = []
        for doc in X:
            if isinstance(doc, bytes):
                doc = doc.decode(self.encoding, self.decode_error)
            elif doc is None or (isinstance(doc, float) and np.isnan(doc)):
                raise ValueError("np.nan is an invalid document, expected byte or unicode string.")
            docs.append(doc)
        return pa.array(docs, type=pa.string())

    def transform(self, X: Any) -> Any:
        lo, hi = self._validate()
        docs = self._documents(X)
        result = _core.text_murmur3(docs, lo, hi, bool(self.lowercase), 0)
        if isinstance(result, tuple):
            hashes = pa.chunked_array([pa.array(h) for h in result[0]], type=pa.list_(pa.int32()))
        else:
            hashes = pa.array(result)
        if hashes.null_count:
            raise ValueError("np.nan is an invalid document, expected byte or unicode string.")
        out = _csr_from_hashes(hashes, None, self.n_features, self.alternate_sign, self.dtype)
        if self.binary:
            out.data.fill(1)
        if self.norm is not None:
            _normalize_rows(out, self.norm)
        return out
