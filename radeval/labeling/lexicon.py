"""The synonym lexicon of the rule-based labeler: how each abnormality label is mentioned.

Every label has one :class:`LabelEntry` holding :class:`Term` s. A term is a case-insensitive
regular expression matched inside a *clause*; it may also

* **require** a second expression in the same clause (a site: calcification counts as *coronary*
  only next to "coronary"/"LAD"/"RCA"; "enlarged" counts as cardiomegaly only next to
  "heart"/"cardiac"), and
* be **excluded** by an expression in the same clause (a "nodule" next to "thyroid" is not a lung
  nodule; "septal thickening" next to "interventricular" is not interlobular).

The match span is the *mention*; negation and uncertainty are then decided for that span (see
:mod:`radeval.labeling.negation`). The terms follow the wording of CT-RATE findings (translated
Turkish hospital reports: "Pleural effusion-thickening was not detected", "Calcific atheromatous
plaques are observed in the aorta and coronary arteries", "sequelae fibrotic changes") and common
English radiology usage. Each entry documents its rules in ``description``; :func:`describe`
prints the whole lexicon. The 21 INSPECT entries (the RAD3D-Prefix paper's Table 6) approximate the
paper's ReXKG entity extraction; their descriptions say which CTPA impression phrases count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Term:
    """One way of mentioning a label.

    Attributes:
        pattern: regular expression of the mention (matched case-insensitively in a clause).
        requires: expression that must also occur in the clause, or ``None``.
        excludes: expression whose presence in the clause vetoes the mention, or ``None``.
    """

    pattern: str
    requires: str | None = None
    excludes: str | None = None
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)
    compiled_requires: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    compiled_excludes: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.pattern, re.IGNORECASE))
        object.__setattr__(self, "compiled_requires",
                           re.compile(self.requires, re.IGNORECASE) if self.requires else None)
        object.__setattr__(self, "compiled_excludes",
                           re.compile(self.excludes, re.IGNORECASE) if self.excludes else None)

    def find(self, clause: str) -> list[tuple[int, int]]:
        """Spans of this term's mentions in ``clause`` (empty if a requirement fails or a veto fires).

        Example:
            >>> Term(r"\\bnodules?\\b", excludes=r"\\bthyroid\\b").find("a nodule in the thyroid gland")
            []
        """
        spans = [m.span() for m in self.compiled.finditer(clause)]
        if not spans:
            return spans
        if self.compiled_requires is not None and not self.compiled_requires.search(clause):
            return []
        if self.compiled_excludes is not None and self.compiled_excludes.search(clause):
            return []
        return spans


@dataclass(frozen=True)
class LabelEntry:
    """All terms of one label, with a plain-language description of the rules."""

    label: str
    description: str
    terms: tuple[Term, ...]
    any_term: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One search per clause tells whether any term can match at all (most clauses mention nothing).
        combined = "|".join(f"(?:{t.pattern})" for t in self.terms)
        object.__setattr__(self, "any_term", re.compile(combined, re.IGNORECASE))

    def find(self, clause: str) -> set[tuple[int, int]]:
        """Spans of every term's mentions in ``clause``."""
        spans: set[tuple[int, int]] = set()
        if self.any_term.search(clause) is None:
            return spans
        for term in self.terms:
            spans.update(term.find(clause))
        return spans


# -- shared fragments -----------------------------------------------------------------------------
_CALCIFIC = r"\b(?:calcif\w*|atherom\w*|atheroscler\w*|plaques?)\b"
_NONCORONARY_ARTERY = (
    r"\b(?:aort(?!opulmonary|ic\s+valve)\w*|(?<!coronary\s)arter(?:y|ies|ial)|vascular|vessels?|carotids?|"
    r"subclavian|brachiocephalic|innominate|iliac|vertebral|arcus|supra-?aortic)\b"
)
_CORONARY = r"\bcoronar\w*|\b(?:LAD|RCA|LCx|circumflex|left\s+main|left\s+anterior\s+descending)\b"
_NON_LUNG_ORGAN = (
    r"\b(?:thyroid\w*|goiter|goitre|adrenal\w*|liver|hepatic|kidneys?|renal|breasts?|spleen|splenic|"
    r"pancrea\w*|bones?|osseous|vertebra\w*|skin|subcutaneous)\b"
)
_FLUID = r"(?:effusions?|fluid|collections?)"
#: Lymph nodes said to be below pathological size ("not reaching pathological size", "smaller than 1 cm").
_SMALL_NODES = (
    r"\bnon-?\s?patholog\w*|\bnot\b[^;]*?\bpatholog\w*|\bnot\s+(?:exceed\w*|reach\w*)|"
    r"\b(?:less|smaller)\s+than\b|\b(?:below|under)\s+(?:\d|the\s+patholog|patholog)|"
    r"\b(?:millimetric|subcentimetric|sub-?centimet(?:er|re)|subcentimet(?:er|re)|reactive)\b"
)
#: A lymph-node size of 10 mm / 1 cm or more.
_NODE_SIZE = r"(?<![\d.,])(?:[1-9]\d(?:[.,]\d+)?\s*mm|[1-9](?:[.,]\d+)?\s*cm)\b"

LEXICON: dict[str, LabelEntry] = {}


def _add(label: str, description: str, *terms: Term) -> None:
    LEXICON[label] = LabelEntry(label, description, tuple(terms))


_add("Medical material",
     "Devices and foreign material: pacemaker/defibrillator, catheters (port, central venous), "
     "stents, sternotomy wires, surgical clips/sutures/staples, tubes (endotracheal, tracheostomy, "
     "nasogastric, chest), drains, prostheses and valve replacements, coils, screws, implants.",
     Term(r"\bmedical\s+(?:materials?|devices?)\b|\b(?:cardiac\s+)?pace-?makers?\b"),
     Term(r"\b(?:cardioverter|defibrillator)s?\b|\bICDs?\b"),
     Term(r"\bcatheters?\b|\bcannulas?\b|\bport\s+(?:device|system|reservoir)\b"),
     Term(r"\bstent(?:s|[\s-]?grafts?)?\b"),
     Term(r"\b(?:sternotomy|sternal|surgical|metallic|metal)\s+(?:wires?|sutures?|clips?|staples?|"
          r"materials?|implants?|devices?|bod(?:y|ies))\b"),
     Term(r"\b(?:suture\s+materials?|wires?|clips?|staples?|cerclages?|screws?|implants?|coils?)\b"),
     Term(r"\bforeign\s+bod(?:y|ies)\b|\bembolization\s+material\b"),
     Term(r"\b(?:endotracheal|tracheostomy|tracheotomy|nasogastric|orogastric|chest|thoracostomy|"
          r"drainage|feeding)\s+(?:tubes?|cannulas?)\b|\btracheostomy\b|\bdrains?\b"),
     Term(r"\bprosthe(?:sis|ses|tic)\b|\bvalve\s+replacement\b|\bmechanical\s+(?:heart\s+)?valves?\b"))

_add("Arterial wall calcification",
     "Calcification, atheroma or atherosclerotic plaque of a non-coronary artery (aorta, supra-aortic, "
     "carotid, subclavian, iliac, 'vascular'): the calcific word and the site must share a clause; "
     "'coronary arteries' and the aortic valve are not such sites. 'Atherosclerosis' with no site at "
     "all also counts.",
     Term(_CALCIFIC, requires=_NONCORONARY_ARTERY),
     Term(r"\batheroscler\w*", excludes=_CORONARY))

_add("Cardiomegaly",
     "'Cardiomegaly', or 'increased/enlarged/enlargement' in a clause about the heart ('heart size is "
     "increased', 'cardiac enlargement'), unless the clause is about a chamber, vessel or lymph node; "
     "an increased cardiothoracic ratio.",
     Term(r"\bcardiomegal\w*"),
     Term(r"\b(?:increased|enlarged|enlargement|enlarge)\b", requires=r"\b(?:heart|cardiac)\b",
          excludes=r"\b(?:lymph|atri(?:um|a|al)|ventric\w*|aort\w*|arter\w*|veins?|vena|trunk)\b"),
     Term(r"\bincreased\b", requires=r"\bcardiothoracic\s+(?:ratio|index)\b"))

_add("Pericardial effusion",
     "Pericardial effusion or fluid, including CT-RATE's 'pericardial effusion-thickening' and the "
     "coordinated 'pericardial and pleural effusion'; fluid in the pericardium; haemopericardium.",
     Term(rf"\bpericardial\s+{_FLUID}"),
     Term(rf"\bpericardial\s*(?:and|or|/|,|-)\s*pleural\s+{_FLUID}"),
     Term(rf"\bpleural\s*(?:and|or|/|,|-)\s*pericardial\s+{_FLUID}"),
     Term(r"\b(?:effusions?|fluid)\s+(?:in|within|into)\s+(?:the\s+)?pericardi\w*|\bh(?:a)?emopericardium\b"))

_add("Coronary artery wall calcification",
     "Calcification, atheroma or plaque in a clause that names the coronary arteries (or LAD, RCA, "
     "LCx, circumflex, left main).",
     Term(_CALCIFIC, requires=_CORONARY))

_add("Hiatal hernia",
     "Hiatal/hiatus hernia or herniation; sliding or paraesophageal hernia; any 'hernia' in a clause "
     "about the hiatus, oesophagus or stomach.",
     Term(r"\bhiat(?:al|us)\s+hernia\w*|\b(?:sliding|para-?o?esophageal|rolling)\s+(?:type\s+)?hernia\w*"),
     Term(r"\bhernia\w*", requires=r"\b(?:hiat\w*|o?esophag\w*|gastro-?o?esophageal|stomach|gastric|cardia)\b"))

_add("Lymphadenopathy",
     "Lymphadenopathy/adenopathy/'LAP', or lymph nodes in a clause saying pathological size, "
     "enlarged, conglomerate or bulky, or giving a short axis of 10 mm (1 cm) or more. "
     "'Non-pathological', millimetric, subcentimetric or reactive nodes, and nodes 'not reaching "
     "pathological size' or 'smaller than 1 cm', are not lymphadenopathy.",
     Term(r"\b(?:lymph)?adenopath\w*|\bLAPs?\b"),
     Term(r"\blymph\s*nodes?\b|\bnodal\b",
          requires=r"(?<!non-)(?<!non\s)\bpatholog\w*|\benlarge\w*|\bconglomerat\w*|\bbulky\b",
          excludes=_SMALL_NODES),
     Term(r"\blymph\s*nodes?\b", requires=rf"\bshort[\s-]+axis\b.*?{_NODE_SIZE}|{_NODE_SIZE}.*?\bshort[\s-]+axis\b",
          excludes=_SMALL_NODES))

_add("Emphysema",
     "Emphysema / emphysematous (centrilobular, paraseptal, panlobular, bullous) and bullae; "
     "subcutaneous or mediastinal emphysema is air in soft tissue, not lung emphysema.",
     Term(r"(?<!subcutaneous\s)(?<!mediastinal\s)(?<!soft tissue\s)\bemphysem\w*"),
     Term(r"\bbull(?:a|ae|ous)\b"))

_add("Atelectasis",
     "Atelectasis / atelectatic (subsegmental, plate-like, linear, passive, compressive), including "
     "'fibroatelectasis'; collapse of a lung, lobe or segment.",
     Term(r"\b\w*atelecta\w*"),
     Term(r"\bcollapsed?\b", requires=r"\b(?:lungs?|lobes?|lobar|segment\w*)\b"))

_add("Lung nodule",
     "Nodule(s), nodular, micronodule(s), granuloma; a mass in a clause about the lung. A nodule in "
     "the thyroid, adrenal, liver, kidney, breast, spleen, pancreas, bone or skin does not count.",
     Term(r"\b\w*nodul(?:e|es|ar|arity|i)\b|\bgranulomas?\b", excludes=_NON_LUNG_ORGAN),
     Term(r"\bmass(?:es)?\b", requires=r"\b(?:lungs?|lobes?|pulmonary|parenchym\w*)\b",
          excludes=_NON_LUNG_ORGAN))

_add("Lung opacity",
     "Ground-glass (opacity/density/areas), opacity/opacities, infiltrate/infiltration/infiltrative, "
     "crazy paving, tree-in-bud, and 'density/densities' in a clause about the lung (not bone, fat, "
     "liver or soft tissue).",
     Term(r"\bground[\s-]*glass\w*|\bGGOs?\b|\bcrazy[\s-]*paving\b|\btree[\s-]*in[\s-]*bud\b"),
     Term(r"\bopacit(?:y|ies)\b|\binfiltrat\w*", excludes=_NON_LUNG_ORGAN),
     Term(r"\bdensit(?:y|ies)\b",
          requires=r"\b(?:lungs?|lobes?|pulmonary|parenchym\w*|alveolar|patchy|segment\w*|lingula\w*)\b",
          excludes=_NON_LUNG_ORGAN + r"|\b(?:fat|soft\s+tissue|mass|lytic|sclerotic|nodul\w*|fibro\w*|sequel\w*)\b"))

_add("Pulmonary fibrotic sequela",
     "Fibrosis/fibrotic (bands, strands, changes), fibroatelectasis, sequela/sequelae changes, scar, "
     "parenchymal or pleuroparenchymal bands, honeycombing, reticulation; not fibrosis of the breast, "
     "thyroid, liver or myocardium, nor mediastinal fibrosis.",
     Term(r"\bfibro(?:sis|tic|us|-?atelecta\w*|nodular|reticular)\b",
          excludes=r"\b(?:breasts?|thyroid|liver|hepatic|myocard\w*|cystic\s+fibrosis)\b|\bmediastinal\s+fibrosis\b"),
     Term(r"\bsequel(?:a|ae|ous|e)\b|\bscar(?:s|ring|red)?\b"),
     Term(r"\b(?:pleuro-?)?parenchymal\s+bands?\b|\bhoneycomb\w*|\breticulation\w*|"
          r"\breticular\s+(?:opacit\w*|pattern|changes|densit\w*)"))

_add("Pleural effusion",
     "Pleural effusion or fluid (including 'pleural effusion-thickening' and 'pleural and "
     "pericardial effusion'); fluid in the pleural space or a hemithorax; hydrothorax, haemothorax, "
     "empyema; a bare 'effusion' that is not pericardial or articular.",
     Term(rf"\bpleural\s+{_FLUID}"),
     Term(rf"\bpleural\s*(?:and|or|/|,|-)\s*pericardial\s+{_FLUID}"),
     Term(rf"\bpericardial\s*(?:and|or|/|,|-)\s*pleural\s+{_FLUID}"),
     Term(r"\b(?:effusions?|fluid)\s+(?:in|within|into)\s+(?:the\s+)?(?:(?:right|left|bilateral|both)\s+)?"
          r"(?:pleura\w*|hemithora\w*|pleural\s+spaces?)"),
     Term(r"\b(?:fluid|effusions?)\b", requires=r"\bpleural\s+(?:spaces?|cavit\w*)|\bhemithora\w*",
          excludes=r"\bpericardi\w*"),
     Term(r"\b(?:hydrothorax|h(?:a)?emothorax|empyema)\b"),
     Term(r"(?<!pericardial\s)(?<!pericardial-)(?<!joint\s)(?<!articular\s)\beffusions?\b",
          excludes=r"\bpericardi\w*\s+(?:thickening\s+)?(?:and|or|/|-)\s+effusion|\b(?:joint|knee|articular)\b"))

_add("Mosaic attenuation pattern",
     "Mosaic attenuation, mosaic perfusion, mosaic pattern or any 'mosaic' wording.",
     Term(r"\bmosaic\w*"))

_add("Peribronchial thickening",
     "Peribronchial / bronchial / peribronchovascular (wall) thickening, thickened bronchial walls, "
     "increased bronchial wall thickness, peribronchial cuffing.",
     Term(r"\b(?:peri)?bronch(?:ial|iolar|ovascular)\s+(?:wall\s+|interstitial\s+)?thicken\w*"),
     Term(r"\bthicken\w*\s+(?:of\s+|in\s+)?(?:the\s+)?(?:peri)?bronch(?:ial|iolar|ovascular|us|i)\b"),
     Term(r"\bbronch(?:ial|iolar)?\s+walls?\s+(?:(?:is|are|was|were|appears?)\s+)?(?:\w+\s+)?thickened\b"),
     Term(r"\bperibronch\w*\s+cuffing\b"),
     Term(r"\b(?:peri)?bronch\w*\s+wall\s+thickness\s+increase\w*|"
          r"\bincrease\w*\s+(?:in\s+)?(?:the\s+)?(?:peri)?bronch\w*\s+wall\s+thickness"))

_add("Consolidation",
     "Consolidation / consolidated / consolidative areas; air bronchograms. A consolidated (healed) "
     "fracture is not lung consolidation.",
     Term(r"\bconsolidat\w*", excludes=r"\b(?:fractur\w*|callus|ribs?|bones?|osseous|vertebra\w*|clavicle)\b"),
     Term(r"\bair[\s-]*bronchograms?\b"))

_add("Bronchiectasis",
     "Bronchiectasis / bronchiectatic (cylindrical, varicose, cystic, traction), bronchiolectasis.",
     Term(r"\bbronchi(?:ol)?ecta\w*"))

_add("Interlobular septal thickening",
     "(Interlobular) septal thickening, thickening of the interlobular septa, thickened septa, "
     "crazy paving; not cardiac (interventricular/interatrial) or nasal septa.",
     Term(r"\b(?:interlobular\s+)?sept(?:al|a|um)\s+thicken\w*|\bthicken\w*\s+(?:of\s+|in\s+)?(?:the\s+)?"
          r"(?:interlobular\s+)?sept(?:a|al|um)\b|\binterlobular\s+sept(?:a|um)\s+(?:(?:is|are|was|were)\s+)?"
          r"(?:\w+\s+)?thickened\b|\bcrazy[\s-]*paving\b",
          excludes=r"\b(?:interventricular|ventricular|interatrial|atrial|nasal|myocard\w*)\b"))

# -- INSPECT: the RAD3D-Prefix paper's 21 entities (its Table 6) ----------------------------------
# The paper extracts these from CTPA impressions with ReXKG (an LLM knowledge-graph pipeline) and merges
# entities that share a UMLS CUI. We approximate ReXKG with the terms below, negation and uncertainty
# as for CT-RATE; which phrases count for each entity is our reconstruction and is written in each
# description. "Atelectasis" and "Consolidation" share the CT-RATE entries above.
_MASS_NOT_BODY = r"\b(?:body\s+mass|muscle\s+mass|mass\s+effect|bone\s+mass)\b"

_add("Embolism",
     "INSPECT (ReXKG approximation). Embolism, emboli, embolus, embolic (one CUI in the paper), "
     "thromboembolism/thromboembolic, 'PE'; a filling defect or thrombus in a clause about the pulmonary "
     "arteries. 'Embolization material' (a device) is not an embolism.",
     Term(r"\b(?:thrombo-?)?embol(?:ism|isms|i|us|ic)\b|\bPEs?\b", excludes=r"\bembolization\s+material\b"),
     Term(r"\bfilling\s+defects?\b|\bthromb(?:us|i)\b", requires=r"\bpulmonary\b|\barter\w*|\blobar\b|"
          r"\bsegmental\b"))

_add("Opacities",
     "INSPECT (ReXKG approximation). Opacity/opacities/opacification, ground-glass (opacity, "
     "attenuation), GGO, airspace or patchy opacities; not opacities of a non-lung organ.",
     Term(r"\bopaci(?:ty|ties|fication|fied)\b|\bground[\s-]*glass\w*|\bGGOs?\b", excludes=_NON_LUNG_ORGAN))

_add("Nodules",
     "INSPECT (ReXKG approximation). Nodule(s), nodular, micronodule(s), pulmonary nodularity; "
     "a nodule of the thyroid, adrenal, liver, kidney, breast and similar organs counts as well, as "
     "ReXKG keeps the entity word regardless of organ.",
     Term(r"\b\w*nodul(?:e|es|ar|arity)\b"))

_add("Disease",
     "INSPECT (ReXKG approximation). The word 'disease' in any finding: airspace disease, interstitial "
     "lung disease, emphysematous/atherosclerotic disease, metastatic disease, reactive airways disease.",
     Term(r"\bdiseases?\b"))

_add("Infection",
     "INSPECT (ReXKG approximation). Infection, infectious (process, etiology), infected; "
     "'infectious or inflammatory' counts (often hedged, so usually uncertain).",
     Term(r"\binfect(?:ion|ions|ious|ed)\b"))

_add("Thickening",
     "INSPECT (ReXKG approximation). Thickening or thickened of any structure: pleural, bronchial wall, "
     "interlobular septal, peribronchial, esophageal wall.",
     Term(r"\bthicken(?:ing|ed)\b"))

_add("Effusions",
     "INSPECT (ReXKG approximation). Effusion(s) of the pleura or pericardium (any 'effusion' not of a "
     "joint), hydrothorax.",
     Term(r"\beffusions?\b|\bhydrothorax\b", excludes=r"\b(?:joint|knee|articular)\b"))

_add("Edema",
     "INSPECT (ReXKG approximation). Edema/oedema/edematous of the lung or elsewhere (pulmonary "
     "edema, interstitial edema, anasarca, soft tissue edema).",
     Term(r"\b(?:o)?edema\w*|\banasarca\b"))

_add("Aspiration",
     "INSPECT (ReXKG approximation). Aspiration, aspirated (material, secretions) in the airways or "
     "lungs.",
     Term(r"\baspirat(?:ion|ed)\b"))

_add("Mass",
     "INSPECT (ReXKG approximation). Mass/masses of any organ (lung, mediastinal, hilar, adrenal, "
     "hepatic), 'masslike'; not 'mass effect', body or muscle mass.",
     Term(r"\bmass(?:es|like|-like)?\b", excludes=_MASS_NOT_BODY))

_add("Pneumonia",
     "INSPECT (ReXKG approximation). Pneumonia(s), bronchopneumonia, pneumonic consolidation.",
     Term(r"\b(?:broncho)?pneumoni(?:a|as|c)\b"))

_add("Metastatic",
     "INSPECT (ReXKG approximation). The adjective 'metastatic' (metastatic disease, lesion, "
     "lymphadenopathy).",
     Term(r"\bmetastatic\b"))

_add("Lymphadenopathies",
     "INSPECT (ReXKG approximation). Lymphadenopathy/lymphadenopathies, adenopathy (mediastinal, "
     "hilar, axillary), 'enlarged lymph nodes'.",
     Term(r"\b(?:lymph)?adenopath(?:y|ies)\b"),
     Term(r"\b(?:enlarged|bulky|pathologic(?:al)?(?:ly)?\s+enlarged)\s+(?:\w+\s+){0,2}(?:lymph\s+)?nodes\b"))

_add("Hypertension",
     "INSPECT (ReXKG approximation). Hypertension in any form: pulmonary (arterial) hypertension, "
     "hypertensive changes.",
     Term(r"\bhypertensi(?:on|ve)\b"))

_add("Metastases",
     "INSPECT (ReXKG approximation). The noun: metastasis/metastases, 'mets' (osseous, hepatic, "
     "pulmonary metastases).",
     Term(r"\bmetastas(?:is|es)\b|\bmets\b"))

_add("Lesions",
     "INSPECT (ReXKG approximation). Lesion(s) of any organ (lytic/sclerotic bone lesions, hepatic "
     "lesions, cavitary lung lesions).",
     Term(r"\blesions?\b"))

_add("Malignancy",
     "INSPECT (ReXKG approximation). Malignancy/malignancies, malignant, neoplasm/neoplastic, cancer "
     "(one UMLS concept with malignancy).",
     Term(r"\bmalignan(?:cy|cies|t)\b|\bneoplas(?:m|ms|tic)\b|\bcancers?\b"))

_add("Node",
     "INSPECT (ReXKG approximation). A (lymph) node or nodes mentioned as a finding: 'a 12 mm "
     "subcarinal node', 'prominent mediastinal lymph nodes'; the negated 'no enlarged lymph nodes' is "
     "negative.",
     Term(r"\b(?:lymph\s+)?nodes?\b|\bnodal\b"))

_add("Others",
     "INSPECT (ReXKG approximation; our reconstruction: the paper does not say what 'Others' holds). "
     "Frequent CTPA abnormalities outside the other 20 entities: cardiomegaly, pericardial or cardiac "
     "enlargement, right heart strain, enlarged pulmonary artery, emphysema, bronchiectasis, fibrosis, "
     "scarring, pneumothorax, hiatal hernia, fracture, cyst, aneurysm.",
     Term(r"\bcardiomegal\w*|\bright\s+(?:heart|ventricular)\s+strain\b|\bemphysem\w*|\bbronchiecta\w*|"
          r"\bfibro(?:sis|tic)\b|\bscar(?:ring)?\b|\bpneumothora(?:x|ces)\b|\bhernia\w*|\bfractur\w*|"
          r"\bcysts?\b|\baneurysm\w*"),
     Term(r"\b(?:enlarged|dilated|enlargement|dilatation)\b",
          requires=r"\bpulmonary\s+(?:arter\w*|trunk)\b|\bright\s+ventric\w*|\bheart\b|\bcardiac\b"))


def entries(labels: Iterable[str]) -> list[LabelEntry]:
    """Lexicon entries of ``labels`` in order (the caller has validated the names)."""
    return [LEXICON[name] for name in labels]


def describe(labels: Iterable[str] | None = None) -> str:
    """The documented rules of the lexicon as plain text, one paragraph per label.

    Example:
        >>> describe(["Mosaic attenuation pattern"]).startswith("Mosaic attenuation pattern: Mosaic attenuation")
        True
    """
    names = list(labels) if labels is not None else list(LEXICON)
    return "\n".join(f"{LEXICON[n].label}: {LEXICON[n].description}" for n in names)
