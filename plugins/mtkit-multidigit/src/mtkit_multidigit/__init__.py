"""mtkit dataset plugins for multi-digit number recognition (Goodfellow et al. 2013).

``multidigit`` builds digit sequences from scikit-learn's bundled handwritten digits;
``svhn`` reads the Street View House Numbers format 1. Both label the same six tasks
(``length`` + ``digit1``..``digit5``); see ``mtkit_multidigit.sequences``.
"""

__version__ = "0.1.0"
