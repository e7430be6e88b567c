"""Collapsible blocks: found from layer names (keras.applications style) or from fork/merge structure."""

from studio.core.graph.groups import find_groups
from studio.core.graph.model import Graph
from studio.core.graph.templates import load_template


def test_resnet50_has_one_group_per_residual_block():
    graph = load_template("resnet50").graph
    groups = find_groups(graph)
    assert [g.title for g in groups[:4]] == ["conv2_block1", "conv2_block2", "conv2_block3", "conv3_block1"]
    assert len(groups) == 16  # 3 + 4 + 6 + 3 bottleneck blocks
    first = groups[0]
    names = {graph.nodes[i].name for i in first.members}
    assert {"conv2_block1_0_conv", "conv2_block1_add", "conv2_block1_out"} <= names
    assert all(name.startswith("conv2_block1_") for name in names)
    assert graph.nodes[first.last].name == "conv2_block1_out"
    members = [i for g in groups for i in g.members]
    assert len(members) == len(set(members))  # groups never overlap
    stem = {graph.by_name(n).id for n in ("input_layer", "conv1_conv", "pool1_pool")}
    assert stem.isdisjoint(members)


def test_ids_are_stable_across_loads():
    first = [g.id for g in find_groups(load_template("resnet50").graph)]
    assert first == [g.id for g in find_groups(load_template("resnet50").graph)]


def _residual(graph: Graph, previous: str, depth: int) -> str:
    """``previous`` -> depth x Dense -> Add(previous, ...): an unnamed residual block."""
    branch = previous
    for _ in range(depth):
        node = graph.add_node("Dense", {"units": 8}).id
        graph.connect(branch, node)
        branch = node
    add = graph.add_node("Add").id
    graph.connect(previous, add)
    graph.connect(branch, add)
    return add


def test_unnamed_residual_blocks_are_found_from_the_structure():
    graph = Graph()
    x = graph.add_node("Input", {"shape": [8]}).id
    first = _residual(graph, x, 2)
    second = _residual(graph, first, 3)
    head = graph.add_node("Dense", {"units": 2}).id
    graph.connect(second, head)
    groups = find_groups(graph)
    assert [len(g.members) for g in groups] == [3, 4]
    assert [g.last for g in groups] == [first, second]
    assert head not in groups[1].members and x not in groups[0].members


def test_branches_that_never_meet_are_not_a_group():
    graph = Graph()
    x = graph.add_node("Input", {"shape": [8]}).id
    for _ in range(2):  # two output heads
        graph.connect(x, graph.add_node("Dense", {"units": 2}).id)
    assert find_groups(graph) == []
