"""The course's face: the modules of each notebook, holding that lesson's small computations,
figures and widget panels. A change to one lesson touches its modules here (and its notebook).

======================== ===================================================================
notebook                 module
======================== ===================================================================
01 information diagrams  :mod:`~bbal_tutorial.lessons.diagrams` (one point; notation, colours),
                         :mod:`~bbal_tutorial.lessons.double_counting` (two points, the
                         three-variable diagram)
02 BALD vs BatchBALD      :mod:`~bbal_tutorial.lessons.duplicates` (picks, sampled estimates,
                         the log K ceiling), :mod:`~bbal_tutorial.lessons.submodularity`
                         (greedy against exhaustive search),
                         :mod:`~bbal_tutorial.lessons.duplicate_surprise`
03 consistent MC dropout  :mod:`~bbal_tutorial.lessons.dropout`
04 Repeated MNIST         :mod:`~bbal_tutorial.lessons.repeated_mnist`
05 class diversity        :mod:`~bbal_tutorial.lessons.class_diversity`
06 acquisition size       :mod:`~bbal_tutorial.lessons.acquisition_size`
07 limitations            :mod:`~bbal_tutorial.lessons.limitations`
======================== ===================================================================

Notebooks 01 and 02 have more than one module, one per section with its own idea, so that none
passes ~400 lines. :mod:`~bbal_tutorial.lessons.duplicate_pool` is the small trained model and
pool with near-duplicates that notebooks 02, 03, 06 and 07 share. Lessons may use everything in
the core and earlier lessons; nothing in the core imports a lesson.
"""
