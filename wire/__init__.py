"""The SupportLink wire protocol: every message, capability and data channel, defined once
and imported by the server, the customer's peer and (mirrored in ``webui/protocol.js``) the console.
"""
