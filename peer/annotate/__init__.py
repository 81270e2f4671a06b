"""Drawing on the customer's screen: the stroke model (``board``), the X overlay
(``overlay``)."""
