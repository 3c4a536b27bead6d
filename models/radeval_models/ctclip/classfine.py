"""The released CT-CLIP classifier head (ClassFine / CT-LiPro) as a :class:`LabelHead`: RAD3D-Prefix's CT-RATE priors.

The RAD3D-Prefix paper (§4.5) takes the CT-RATE priors from CT-CLIP's original classifier weights. CT-CLIP releases
that classifier as ``CT_LiPro_v2.pt`` in the gated Hugging Face dataset repo ``ibrahimhamamci/CT-RATE`` under
``models/CT-CLIP-Related/``. The file is a torch state dict of CT-CLIP's ``ImageLatentsClassifier``:

===================================  ========================  ==========================================
checkpoint key                       shape                     :class:`LabelHead` key
===================================  ========================  ==========================================
``classifier.weight``                (18, 512)                 ``classifier.weight``
``classifier.bias``                  (18,)                     ``classifier.bias``
``trained_model.*``                  (the whole CT-CLIP)       not used: CLIP is frozen in ClassFine, so
                                                               its latent is CT-CLIP_v2's (``radeval embed``)
===================================  ========================  ==========================================

The head computes ``Linear(512, 18)(Dropout(0.3)(ReLU(latent)))`` on the L2-normalised image latent; in eval mode
the dropout is off, so the logits follow from the stored 512-d latent alone. Output order is the 18 CT-RATE labels
in CT-CLIP order (:data:`radeval.data.labels.CTRATE_LABELS`). A ``module.`` prefix (a DataParallel save) is
stripped. Offline, a missing file fails at once and names what to download.
"""

from __future__ import annotations

from pathlib import Path

import torch

from radeval_models.ctclip.label_head import LabelHead
from radeval.data.labels import CTRATE_LABELS
from radeval.errors import InputError, MissingWeightsError

#: Where the released classifier lives (gated dataset repo; accept its terms on the Hub first).
CLASSFINE_REPO = "ibrahimhamamci/CT-RATE"
CLASSFINE_FILE = "models/CT-CLIP-Related/CT_LiPro_v2.pt"
#: Checkpoint key -> LabelHead key.
KEY_MAP: dict[str, str] = {"classifier.weight": "classifier.weight", "classifier.bias": "classifier.bias"}


def download_hint() -> str:
    """What to download, and how, for the CT-RATE classifier head."""
    return (f"download {CLASSFINE_FILE} from the gated Hugging Face dataset {CLASSFINE_REPO} (accept its terms, then "
            f"`huggingface-cli download {CLASSFINE_REPO} {CLASSFINE_FILE} --repo-type dataset --local-dir <dir>`) "
            "and give its path")


def load_classfine_head(path: str | Path) -> LabelHead:
    """The released CT-CLIP ClassFine head (``CT_LiPro_v2.pt``) as an eval-mode 18-label :class:`LabelHead`.

    Args:
        path: the ``CT_LiPro_v2.pt`` file (or any state dict with the keys of :data:`KEY_MAP`).

    Returns:
        The head (dropout 0.3, off in eval mode), labels in CT-CLIP order.

    Raises:
        MissingWeightsError: the file is absent (names the repo, the file and the download command).
        InputError: unreadable file, missing ``classifier.*`` keys or shapes other than (18, 512) / (18,).

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "CT_LiPro_v2.pt")
        >>> torch.save({"trained_model.temperature": torch.tensor(1.0), "classifier.weight": torch.zeros(18, 512),
        ...             "classifier.bias": torch.full((18,), 2.0)}, p)
        >>> head = load_classfine_head(p)
        >>> head.label_names[0], float(head.logits(torch.zeros(1, 512).numpy())[0, 0])
        ('Medical material', 2.0)
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise MissingWeightsError(f"{p}: the CT-CLIP classifier head (ClassFine, CT_LiPro_v2.pt) is not here; "
                                  f"{download_hint()}")
    from radeval_models.ctclip.encoder import read_checkpoint

    state = read_checkpoint(p)
    state = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}
    missing = [k for k in KEY_MAP if k not in state]
    if missing:
        found = sorted({k.split(".")[0] for k in state})
        raise InputError(f"{p}: no {', '.join(missing)} in the checkpoint (top-level keys: {found[:8]}); is it "
                         f"CT-CLIP's ClassFine classifier ({CLASSFINE_FILE})?")
    n, dim = len(CTRATE_LABELS), 512
    weight, bias = state["classifier.weight"], state["classifier.bias"]
    if tuple(weight.shape) != (n, dim) or tuple(bias.shape) != (n,):
        raise InputError(f"{p}: classifier.weight {tuple(weight.shape)} / classifier.bias {tuple(bias.shape)}; "
                         f"expected ({n}, {dim}) / ({n},) for the 18 CT-RATE labels")
    head = LabelHead(CTRATE_LABELS, dim=dim, dropout=0.3)
    head.load_state_dict({KEY_MAP[k]: state[k].to(torch.float32) for k in KEY_MAP}, strict=True)
    return head.eval()
