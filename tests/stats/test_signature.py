"""SignificanceSettings: validation, test-dependent defaults, the signature string."""

from __future__ import annotations

import numpy as np
import pytest

from radeval.errors import InputError
from radeval.stats.signature import SignificanceSettings


def test_defaults_and_signature():
    s = SignificanceSettings.build()
    assert (s.test, s.resamples, s.seed, s.ci, s.correction, s.pvalue) == (
        "bootstrap", 5000, 12345, "percentile", "holm", "sacrebleu-bs")
    assert s.signature == ("test:bootstrap|B:5000|seed:12345|ci:percentile|conf:0.95|correction:holm|"
                           "family:systems×metrics|pvalue:sacrebleu-bs|v:0.1.0")


def test_ar_defaults():
    s = SignificanceSettings.build(test="ar", mode="all-pairs", seed=None, ci_resamples=0)
    assert (s.resamples, s.ci_resamples, s.pvalue) == (10000, 0, "ar-ge")
    assert s.signature.startswith("test:ar|R:10000|ciB:0|seed:none|")
    assert "family:pairs×metrics" in s.signature


def test_numpy_integer_seed_is_accepted():
    assert SignificanceSettings.build(seed=np.int64(7)).seed == 7


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"resamples": 10}, "resamples=10: at least 100"),
    ({"test": "ar", "ci_resamples": 50}, "ci_resamples=50"),
    ({"ci_resamples": 300}, "ci_resamples applies to test='ar' only"),
    ({"mode": "round-robin"}, "mode='round-robin'"),
    ({"pvalue": "koehn", "test": "ar"}, "pvalue='koehn'"),
    ({"alpha": 0.0}, "alpha=0.0"),
    ({"seed": 1.5}, "seed=1.5"),
    ({"seed": True}, "seed=True"),
])
def test_invalid_settings(kwargs, message):
    with pytest.raises(InputError, match=message):
        SignificanceSettings.build(**kwargs)
