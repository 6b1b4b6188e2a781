"""The public pages anyone may open without signing in: one blueprint (``blueprint``), its
routes registered by importing the modules below."""

from app.public import (  # noqa: F401  (modules that register their routes)
    downloads,  # /privacy/download/<token>
    inquiry,  # /d/<slug>/inquiry, /d/<slug>/unsubscribe/<token>, /d/<slug>/marketing
    policy,  # /privacy (the policy, every published version) and /privacy/subprocessors
    privacy_request,  # /privacy/request and its confirmation link
)
