"""The HTTP routes, schedules and queue handlers, one ``chalice.Blueprint`` per area (``app.py`` registers them).

==================  ==============================================================================================
``auth``            the bearer-token authorizer (``cognito_jwt``), used by every area's JSON routes
``operations``      ``/health``, ``/me``, ``/openapi.json``, ``/docs``; the outbox drain
``repayments``      ``/repayments*``, ``/receipts/verify``; the verification-expiry sweep and the settlement worker
``knowledge_base``  ``/kb/*``, ``/contacts*``; the daily relearn
``help_centre``     ``/help``, ``/help/search``, ``/help/articles/{slug}``, ``/help/contact`` (pages)
``cases``           the 工单 API: ``/support/cases*``, ``/support/queues``, ``/support/suggestions``, unfreeze;
                    the escalation sweep
``agent_workspace`` ``/agent*``: staff sign-in and the workspace pages
``bills``           ``/catalogue``, ``/bills*``, ``/schedules*``, ``/notices*``; the bills sweep and its wake workers
``user_pages``      the wallet user's pages: ``/help/login*``, ``/help/cases*``, ``/help/repayments*``,
                    ``/help/bills``, ``/help/notices``, ``/help/receipts/verify``
``incidents``       ``/support/cases/{case_id}/update-answer``, ``/support/incidents*``; the repayment-events
                    worker (a 工单 hears its repayment)
``reports``         ``/support/reports/{report}``, ``/support/kb-gaps``, ``/agent/reports``; the events rollup
``status``          service notices: ``/status`` (public), ``/support/notices*``, ``/agent/notices*`` (docs/status.md)
``content``         help-centre articles as content: ``/support/kb/articles*`` (versions, review, publish)
``kb_editions``     ``/support/kb/contacts*``, ``/support/kb/macros*``: contacts and quick replies, versioned
``agent_kb``        ``/agent/kb*``: the article editor, contacts and quick replies in the workspace
``mail``            replies by e-mail: the inbound mail queue's ``receive_mail`` (docs/escalation.md)
==================  ==============================================================================================

Each handler parses its input (``chalicelib.edge.httpio``), calls one service function and shapes the response
(``chalicelib.edge.replies``); it reads the request as ``bp.current_request``. Services and the heavier schemas are
imported on first use (``chalicelib/edge/lazy.py``): a cold start pays only for the route it answers. Handlers of
schedules and queues keep their names: they are the Lambda functions' names (never a ``name_prefix``).
"""
