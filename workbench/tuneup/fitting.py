"""The fits and quality rules of tune-up, which live in :mod:`workbench.analysis.fitting` since analyses
of any Dataset share them; this name stays for scripts written against it."""

from workbench.analysis.fitting import (
    MIN_R2,
    MIN_SNR,
    Fit,
    Param,
    Quality,
    assess,
    cosine,
    damped_cosine,
    dominant_frequency,
    exponential,
    fit_curve,
    grid_search,
    line,
    linear_lstsq,
    rabi_lineshape,
    weights_of,
)

__all__ = ["MIN_R2", "MIN_SNR", "Fit", "Param", "Quality", "assess", "cosine", "damped_cosine", "dominant_frequency",
           "exponential", "fit_curve", "grid_search", "line", "linear_lstsq", "rabi_lineshape", "weights_of"]
