"""The course's face: one module per notebook, holding that lesson's small computations, figures
and widget panels. A change to one lesson touches one module here (and its notebook).

======================== ===================================================================
notebook                 module
======================== ===================================================================
01 information diagrams  :mod:`~bbal_tutorial.lessons.diagrams`
02 BALD vs BatchBALD      :mod:`~bbal_tutorial.lessons.duplicates`
03 consistent MC dropout  :mod:`~bbal_tutorial.lessons.dropout`
04 Repeated MNIST         :mod:`~bbal_tutorial.lessons.repeated_mnist`
05 class diversity        :mod:`~bbal_tutorial.lessons.class_diversity`
06 acquisition size       :mod:`~bbal_tutorial.lessons.acquisition_size`
07 limitations            :mod:`~bbal_tutorial.lessons.limitations`
======================== ===================================================================

:mod:`~bbal_tutorial.lessons.duplicate_pool` is the small trained model and pool with
near-duplicates that notebooks 02, 03, 06 and 07 share. Lessons may use everything in the core
and earlier lessons; nothing in the core imports a lesson.
"""
