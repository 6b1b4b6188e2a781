"""What people are told (GDPR Art. 13, 14, 28, 30, 33).

- ``policy_versions``: which privacy policy version is in force, announced or archived
- ``policy_drafts``: drafting a version, and the rule that a published version never changes
- ``policy_publishing``: publishing a version and announcing a material change
- ``initial_policy``: the first version of a fresh install, from ``initial_policy.txt``
- ``subprocessors``: the public list of sub-processors and announcing changes to it
- ``breaches``: the breach register and telling the dealers affected
- ``record``: the record of processing activities (Art. 30), from the privacy registry
"""
