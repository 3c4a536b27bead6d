"""Phantom CT-RATE: reproducible, findings visible in the volumes and stated in the reports."""

from __future__ import annotations

import filecmp
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from radeval.data.ctrate import CTRateDataset
from radeval.data.labels import CTRATE_LABELS
from radeval.data.phantom import make_phantom_dataset, synthesize_chest
from radeval.data.phantom_reports import NEGATIVE, POSITIVE, render_findings
from radeval.errors import InputError

#: A phrase each positive sentence of a label contains (lower case).
KEY = {
    "Medical material": ("medical material", "catheter", "pacemaker", "sternotomy"),
    "Arterial wall calcification": ("aortic wall", "walls of the aorta", "arterial wall calcification"),
    "Cardiomegaly": ("cardiomegaly",),
    "Pericardial effusion": ("pericardial",),
    "Coronary artery wall calcification": ("coronary",),
    "Hiatal hernia": ("hiatal hernia",),
    "Lymphadenopathy": ("lymphadenopathy",),
    "Emphysema": ("emphysema",),
    "Atelectasis": ("atelecta",),
    "Lung nodule": ("nodule",),
    "Lung opacity": ("opacity",),
    "Pulmonary fibrotic sequela": ("fibrotic sequela",),
    "Pleural effusion": ("pleural effusion",),
    "Mosaic attenuation pattern": ("mosaic attenuation",),
    "Peribronchial thickening": ("peribronchial thickening",),
    "Consolidation": ("consolidation",),
    "Bronchiectasis": ("bronchiecta",),
    "Interlobular septal thickening": ("interlobular septal thickening",),
}


def test_same_seed_same_dataset(tmp_path: Path) -> None:
    a = make_phantom_dataset(tmp_path / "a", n=5, seed=3, shape=(24, 24, 16))
    b = make_phantom_dataset(tmp_path / "b", n=5, seed=3, shape=(24, 24, 16))
    c = make_phantom_dataset(tmp_path / "c", n=5, seed=4, shape=(24, 24, 16))
    rel = "radiology_text_reports/train_reports.csv"
    assert filecmp.cmp(a / rel, b / rel, shallow=False)
    assert not filecmp.cmp(a / rel, c / rel, shallow=False)
    vol = next((a / "train_fixed").rglob("*.nii.gz")).relative_to(a)
    assert np.array_equal(nib.load(a / vol).get_fdata(), nib.load(b / vol).get_fdata())


def test_volumes_are_stored_like_ctrate(phantom_root: Path) -> None:
    ds = CTRateDataset(phantom_root)
    case = ds.cases("train")[0]
    img = nib.load(case.metadata["volume_path"])
    assert img.shape == (32, 32, 24)
    assert img.get_data_dtype() == np.int16
    assert np.allclose(img.header.get_zooms(), ds.spacing(case.id))
    slope, intercept = ds.rescale(case.id)
    hu = slope * np.asarray(img.dataobj) + intercept
    assert hu.min() >= -1024 and hu.max() <= 3071
    assert (hu < -900).mean() > 0.2  # outside air and lungs
    assert ((hu > -150) & (hu < 100)).mean() > 0.15  # soft tissue and fat


def test_reports_state_every_positive(phantom_root: Path) -> None:
    ds = CTRateDataset(phantom_root)
    for split in ds.splits:
        for case in ds.cases(split):
            text = case.reference.lower()
            for label, present in case.metadata["labels"].items():
                if present:
                    assert any(k in text for k in KEY[label]), (case.id, label, text)


def test_wordings_are_unambiguous() -> None:
    rng = np.random.default_rng(0)
    for label in CTRATE_LABELS:
        for sentence in POSITIVE[label]:
            assert sentence.split()[0].lower() not in {"no"}
        for sentence in NEGATIVE[label]:
            lowered = sentence.lower()
            assert lowered.startswith("no ") or " not " in lowered or " no " in lowered or "normal" in lowered
    # a single-finding report mentions that finding positively, and nothing else positively
    for label in CTRATE_LABELS:
        text = render_findings({label: 1}, rng, negation_rate=0.0).lower()
        hits = [other for other in CTRATE_LABELS if other != label and any(k in text for k in KEY[other])]
        assert hits == [], (label, text)
    negated = [render_findings({}, np.random.default_rng(i), negation_rate=1.0) for i in range(20)]
    assert any("No pleural effusion." in t or "Pleural effusion was not observed." in t for t in negated)


def _hu(labels: dict[str, int], seed: int = 11) -> np.ndarray:
    return synthesize_chest(labels, np.random.default_rng(seed), shape=(64, 64, 48), noise_hu=0.0)[0]


@pytest.mark.parametrize("label", CTRATE_LABELS)
def test_each_label_changes_the_image(label: str) -> None:
    normal, finding = _hu({}), _hu({label: 1})
    changed = np.abs(finding - normal) > 50
    assert changed.sum() >= 3, label


def test_findings_have_the_expected_density() -> None:
    normal = _hu({})
    assert (_hu({"Cardiomegaly": 1}) == 40.0).sum() > 1.5 * (normal == 40.0).sum()
    assert (_hu({"Emphysema": 1}) < -900).sum() > (normal < -900).sum()
    assert (_hu({"Medical material": 1}) >= 2000).sum() > 0 and (normal >= 2000).sum() == 0
    effusion = _hu({"Pleural effusion": 1})
    assert (effusion == 10.0).sum() > (normal == 10.0).sum() + 20


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="at least 2"):
        make_phantom_dataset("/nonexistent-never-written", n=1)
    with pytest.raises(InputError, match="valid_fraction"):
        make_phantom_dataset("/nonexistent-never-written", n=4, valid_fraction=1.5)


def test_bad_prevalence_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="prevalence.*Pleural efusion"):
        make_phantom_dataset(tmp_path, n=2, prevalence={"Pleural efusion": 0.9})
    for bad in (1.5, -0.1, {"Emphysema": 2.0}):
        with pytest.raises(InputError, match=r"prevalence.*\[0, 1\]"):
            make_phantom_dataset(tmp_path, n=2, prevalence=bad)
    assert not (tmp_path / "dataset").exists()


#: SHA-256 of 18 small phantoms (each label with one other, int16-rounded HU + details), recorded before
#: synthesize_chest was split into its _draw_* steps (issue 16): a refactor must not move a voxel. Update it only
#: in a commit that changes the image synthesis on purpose, and say so there.
PHANTOM_DIGEST = "7a610f352ae8a3e5dcbad3c5beb7987b33c84400055b753f97bcccdd96f5de78"


def test_generated_volumes_are_unchanged() -> None:
    import hashlib

    digest = hashlib.sha256()
    for k, label in enumerate(CTRATE_LABELS):
        labels = {label: 1, CTRATE_LABELS[(k + 5) % len(CTRATE_LABELS)]: 1}
        hu, details = synthesize_chest(labels, np.random.default_rng(k), shape=(32, 32, 24), noise_hu=15.0)
        digest.update(np.rint(hu).astype(np.int16).tobytes())
        digest.update(repr(sorted((a, sorted(b.items())) for a, b in details.items())).encode())
    assert digest.hexdigest() == PHANTOM_DIGEST


def test_negation_rate_writes_shorter_reports_without_negated_sentences(tmp_path: Path) -> None:
    """The demo's short reports (issue 15): negation_rate=0 states the positives and no negated finding."""
    full = CTRateDataset(make_phantom_dataset(tmp_path / "full", n=12, seed=2, shape=(16, 16, 12)))
    short = CTRateDataset(make_phantom_dataset(tmp_path / "short", n=12, seed=2, shape=(16, 16, 12),
                                               negation_rate=0.0))
    negated = {s for options in NEGATIVE.values() for s in options}
    for split in short.splits:
        labels = short.labels(split)
        for case in short.cases(split):
            assert not any(s in case.reference for s in negated), case.id
            positives = [k for k in CTRATE_LABELS if labels.loc[case.id, k]]
            assert len(case.reference) > 0 or not positives
    mean = {name: np.mean([len(c.reference) for s in ds.splits for c in ds.cases(s)])
            for name, ds in (("full", full), ("short", short))}
    assert mean["short"] < 0.8 * mean["full"]
    with pytest.raises(InputError, match="negation_rate"):
        make_phantom_dataset(tmp_path / "bad", n=4, negation_rate=1.5)


#: The lung-density findings the ``textured`` option gives patch-scale structure (issue 15).
TEXTURED = ("Emphysema", "Mosaic attenuation pattern", "Lung opacity", "Consolidation", "Pulmonary fibrotic sequela")


def _patch_std(hu: np.ndarray) -> np.ndarray:
    """Within-patch standard deviation over the small CT-ViT's patches (X 8, Y 8, Z 4 voxels on a 64x64x48 grid)."""
    return hu.reshape(8, 8, 8, 8, 12, 4).transpose(0, 2, 4, 1, 3, 5).reshape(8, 8, 12, -1).std(-1)


@pytest.mark.parametrize("label", TEXTURED)
def test_textured_density_findings_add_structure_inside_patches(label: str) -> None:
    """A patch-normalising encoder (CT-ViT LayerNorms each patch) sees within-patch structure, not mean density:
    with ``texture_rng`` the finding adds that structure in many patches, only inside the lungs, reproducibly."""
    labels = {label: 1}
    plain = synthesize_chest(labels, np.random.default_rng(3), noise_hu=0.0)[0]
    textured = synthesize_chest(labels, np.random.default_rng(3), noise_hu=0.0,
                                texture_rng=np.random.default_rng(7))[0]
    again = synthesize_chest(labels, np.random.default_rng(3), noise_hu=0.0, texture_rng=np.random.default_rng(7))[0]
    assert np.array_equal(textured, again)
    changed = textured != plain
    assert changed.any()
    redrawn = plain[changed]  # only aerated lung (and, for consolidation, the consolidated region: 38 HU)
    assert ((redrawn < -700) | ((redrawn == 38.0) if label == "Consolidation" else False)).all()
    gained = (_patch_std(textured) - _patch_std(plain)) > 30.0
    # consolidation is one region (1-2 patches): its bronchograms add structure there; the others are spread out
    assert gained.sum() >= (1 if label == "Consolidation" else 4), (label, int(gained.sum()))


def test_texture_leaves_other_findings_and_the_default_alone() -> None:
    """Labels without a texture draw the same voxels; no ``texture_rng`` is the plain phantom (digest above)."""
    labels = {"Cardiomegaly": 1, "Pleural effusion": 1}
    plain = synthesize_chest(labels, np.random.default_rng(4), noise_hu=15.0)[0]
    textured = synthesize_chest(labels, np.random.default_rng(4), noise_hu=15.0,
                                texture_rng=np.random.default_rng(0))[0]
    assert np.array_equal(plain, textured)


def test_textured_dataset_keeps_labels_reports_and_split(tmp_path: Path) -> None:
    """``textured=True`` changes volumes only (a separate seeded stream): same tables, reproducible volumes."""
    kwargs = dict(n=6, seed=5, shape=(32, 32, 24), prevalence={"Emphysema": 1.0, "Lung opacity": 1.0})
    plain = make_phantom_dataset(tmp_path / "plain", **kwargs)
    textured = make_phantom_dataset(tmp_path / "textured", textured=True, **kwargs)
    again = make_phantom_dataset(tmp_path / "again", textured=True, **kwargs)
    tables = sorted(p.relative_to(plain) for p in plain.rglob("*.csv"))
    assert tables and all(filecmp.cmp(plain / t, textured / t, shallow=False) for t in tables)
    volumes = sorted(p.relative_to(plain) for p in plain.rglob("*.nii.gz"))
    assert volumes == sorted(p.relative_to(textured) for p in textured.rglob("*.nii.gz"))
    read = lambda root, rel: np.asarray(nib.load(str(root / rel)).dataobj)  # noqa: E731
    assert all(np.array_equal(read(textured, v), read(again, v)) for v in volumes)
    assert any(not np.array_equal(read(plain, v), read(textured, v)) for v in volumes)


#: Focal findings the ``textured`` option draws larger, on their anatomy (issue 15 item 3).
FOCAL = ("Coronary artery wall calcification", "Arterial wall calcification", "Medical material", "Bronchiectasis",
         "Lymphadenopathy", "Atelectasis")


@pytest.mark.parametrize("label", FOCAL)
@pytest.mark.parametrize("seed", [1, 2])
def test_textured_focal_findings_are_larger_and_on_their_anatomy(label: str, seed: int) -> None:
    """With ``texture_rng`` a positive focal finding gets more voxels, of its own kind, where it belongs: calcium
    (>= 700 HU) on the heart's surface or the aortic wall, metal (>= 2500 HU) for a device, thick-walled air-filled
    airways or a thicker collapsed plate inside the lung the report names, a fat rim around enlarged nodes;
    reproducibly."""
    from radeval.data import phantom as ph

    labels = {label: 1}
    plain, details = synthesize_chest(labels, np.random.default_rng(seed), noise_hu=0.0)
    textured = synthesize_chest(labels, np.random.default_rng(seed), noise_hu=0.0,
                                texture_rng=np.random.default_rng(7))[0]
    again = synthesize_chest(labels, np.random.default_rng(seed), noise_hu=0.0,
                             texture_rng=np.random.default_rng(7))[0]
    assert np.array_equal(textured, again)
    changed = textured != plain
    canvas = ph._Canvas(plain.shape, tuple(f / n for f, n in zip(ph.DEFAULT_FOV_MM, plain.shape)))
    where = np.argwhere(changed)
    xyz = np.stack([canvas.x.ravel()[where[:, 0]], canvas.y.ravel()[where[:, 1]], canvas.z.ravel()[where[:, 2]]], 1)
    if label == "Coronary artery wall calcification":
        assert changed.sum() >= 20 and (textured[changed] == 750.0).all()
        heart_c = np.array([16.0, -32.0, -52.0])  # x scale ~1: within the heart's reach
        assert (np.linalg.norm(xyz - heart_c, axis=1) < 90).all()
    elif label == "Arterial wall calcification":
        assert changed.sum() >= 20 and (textured[changed] == 800.0).all()
        # every new calcium voxel is near the aortic centre line (its wall is at 13 mm x scale)
        segments = ph._aorta_segments(1.0)
        dist = np.min([_segment_distance(xyz, np.array(a), np.array(b)) for a, b in segments], axis=0)
        assert (dist < 25).all()
    elif label == "Medical material":
        assert changed.sum() >= 20 and (textured[changed] >= 2500.0).all()
    elif label == "Lymphadenopathy":  # a fat rim around the 45 HU nodes, taken from soft tissue next to them
        assert changed.sum() >= 5 and (textured[changed] == -95.0).all() and (plain[changed] > -200).all()
        from scipy.ndimage import binary_dilation
        assert (binary_dilation(plain == 45.0) & changed).sum() == changed.sum()
    elif label == "Atelectasis":  # the 30 HU plate grown into aerated lung of the side the report names
        side = details["Atelectasis"]["side"]
        assert changed.sum() >= 20 and (textured[changed] == 30.0).all() and (plain[changed] < -700).all()
        assert (np.sign(xyz[:, 0]) == (-1 if side == "right" else 1)).all()
    else:
        side = details["Bronchiectasis"]["side"]
        centre_x = -66 if side == "right" else 66
        assert changed.sum() >= 100 and set(np.unique(textured[changed])) <= {-1000.0, 28.0}
        assert (np.sign(xyz[:, 0]) == np.sign(centre_x)).all()  # only in the lung the report names


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = b - a
    t = np.clip((points - a) @ d / (d @ d), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * d), axis=1)


def test_textured_draws_nothing_for_a_chest_without_findings() -> None:
    """No label, no texture: a label is never encoded where it is not a visible finding."""
    plain = synthesize_chest({}, np.random.default_rng(8), noise_hu=15.0)[0]
    textured = synthesize_chest({}, np.random.default_rng(8), noise_hu=15.0, texture_rng=np.random.default_rng(1))[0]
    assert np.array_equal(plain, textured)


def test_textured_dataset_with_focal_findings_keeps_labels_reports_and_split(tmp_path: Path) -> None:
    """The focal drawings, like the textures, change volumes only."""
    kwargs = dict(n=5, seed=6, shape=(32, 32, 24), prevalence={k: 1.0 for k in FOCAL})
    plain = make_phantom_dataset(tmp_path / "plain", **kwargs)
    textured = make_phantom_dataset(tmp_path / "textured", textured=True, **kwargs)
    tables = sorted(p.relative_to(plain) for p in plain.rglob("*.csv"))
    assert tables and all(filecmp.cmp(plain / t, textured / t, shallow=False) for t in tables)
    read = lambda root, rel: np.asarray(nib.load(str(root / rel)).dataobj)  # noqa: E731
    volumes = sorted(p.relative_to(plain) for p in plain.rglob("*.nii.gz"))
    assert all(not np.array_equal(read(plain, v), read(textured, v)) for v in volumes)


#: Findings that the ``textured`` option (version 3) also draws with a shape no normal structure has.
DISTINCT = ("Medical material", "Arterial wall calcification", "Pulmonary fibrotic sequela", "Bronchiectasis")


@pytest.mark.parametrize("label", DISTINCT)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_textured_distinct_shapes(label: str, seed: int, monkeypatch) -> None:
    """Version 3 of the texture adds, for a positive finding only, its distinct shape: calcified rings around the
    aortic centre line, metal for a device, air cysts with 28 HU walls or a
    stellate scar (-60 / 20 HU) inside the lung the report names; nothing for a chest without the finding."""
    from radeval.data import phantom as ph

    labels = {label: 1}
    full, details = synthesize_chest(labels, np.random.default_rng(seed), noise_hu=0.0,
                                     texture_rng=np.random.default_rng(7))
    monkeypatch.setattr(ph, "_draw_distinct_shapes", lambda chest, rng: None)
    v2 = synthesize_chest(labels, np.random.default_rng(seed), noise_hu=0.0, texture_rng=np.random.default_rng(7))[0]
    none_full = synthesize_chest({}, np.random.default_rng(seed), noise_hu=0.0,
                                 texture_rng=np.random.default_rng(7))[0]
    monkeypatch.undo()
    assert np.array_equal(none_full, synthesize_chest({}, np.random.default_rng(seed), noise_hu=0.0)[0])
    changed = full != v2
    assert changed.sum() >= 15
    canvas = ph._Canvas(full.shape, tuple(f / n for f, n in zip(ph.DEFAULT_FOV_MM, full.shape)))
    where = np.argwhere(changed)
    xyz = np.stack([canvas.x.ravel()[where[:, 0]], canvas.y.ravel()[where[:, 1]], canvas.z.ravel()[where[:, 2]]], 1)
    values = set(np.unique(full[changed]).tolist())
    if label == "Arterial wall calcification":
        assert values == {800.0}
        scale = float(np.random.default_rng(seed).uniform(0.9, 1.05))  # the chest's first draw
        segments = ph._aorta_segments(scale)
        dist = np.min([_segment_distance(xyz, np.array(a), np.array(b)) for a, b in segments], axis=0)
        assert dist.min() >= 13.0 * scale and dist.max() < 13.0 * scale + 10.0  # the wall, never the lumen
    elif label == "Medical material":
        device = details["Medical material"]["device"]
        assert values <= {2500.0, 3000.0}, device
    else:
        side = details[label]["side"]
        assert values <= ({-1000.0, 28.0} if label == "Bronchiectasis" else {-60.0, 20.0})
        assert (np.sign(xyz[:, 0]) == (-1 if side == "right" else 1)).all()  # only in the lung the report names
