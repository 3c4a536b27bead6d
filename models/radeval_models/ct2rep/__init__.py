"""CT2Rep's report generator (registry name ``ct2rep``) over CT-CLIP slab tokens: model, word vocabulary, card."""

from radeval_models.ct2rep.model import Ct2Rep, Ct2RepConfig

__all__ = ["Ct2Rep", "Ct2RepConfig"]
