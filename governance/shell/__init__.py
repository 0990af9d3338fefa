"""The management shell around every KAM: the mandate and its check (``mandates``), exception
requests (``exception_requests``), budgets, department obligations, incidents, and their letters
(``notifications``)."""
