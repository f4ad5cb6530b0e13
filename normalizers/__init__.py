"""Pure normalization: report bytes in, Findings out, SARIF and ASFF documents out.

Nothing here touches the network, boto3 or `pipeline`, so the findings-importer
Lambda can package this directory alone.
"""

__version__ = "0.1.0"
