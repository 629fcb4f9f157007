"""bbal_tutorial: Bayesian deep active learning with BALD and BatchBALD, for teaching.

Data flows one way: datasets (`data`) -> Bayesian model (`models`) -> log-probabilities
-> acquisition (`information`, `acquisition`) -> active-learning loop (`loop`) -> results
-> figures (`plots`) and notebooks.
"""

__version__ = "0.1.0"
