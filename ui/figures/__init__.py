"""Pure figure builders: engine data in, plotly `go.Figure` out. No Streamlit here, so notebooks can use them.

One module per picture: `diagram` (the cluster), `logs` (partition log strips), `producer` (accumulator),
`groups` (group state machine, assignment, lag), `charts` (throughput, latency, lag over time),
`overview` (Home page pictures), `share` (KIP-932 share-partition strip), `member_epochs` (KIP-848 member
epochs), `transactions` (coordinator tables); `style` holds the shared palette and layout helpers.
"""

from .charts import lag_history_figure, latency_figure, throughput_figure
from .diagram import cluster_diagram, diagram_layout
from .groups import assignment_rows, group_state_figure, lag_figure
from .logs import log_strips, topic_table
from .member_epochs import member_epochs_figure
from .producer import producer_panel
from .share import share_strip

__all__ = [
    "cluster_diagram",
    "diagram_layout",
    "log_strips",
    "topic_table",
    "producer_panel",
    "group_state_figure",
    "lag_figure",
    "assignment_rows",
    "throughput_figure",
    "latency_figure",
    "lag_history_figure",
    "share_strip",
    "member_epochs_figure",
]
