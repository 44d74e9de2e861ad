"""UV models whose matching gives the EFT couplings of :mod:`evtgen.couplings`.

- :mod:`evtgen.models.tchannel`: the t-channel vector-like-quark model (Q, D, phi) of the seed
  talk: parameter point, tree-level matching, mass eigenstates, widths, one-loop dipoles.
"""

from .tchannel import MODEL_NAME, TChannelPoint, from_dict, match, tchannel_point, to_eft, to_model_point, widths

__all__ = ["MODEL_NAME", "TChannelPoint", "from_dict", "match", "tchannel_point", "to_eft", "to_model_point", "widths"]
