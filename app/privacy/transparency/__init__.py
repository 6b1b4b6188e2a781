"""What people are told (GDPR Art. 13, 14, 30, 33): the policy, sub-processors, breaches."""
