"""spec_for_path: each kind of path or name a dataset can be given as, and the one-line errors."""

import json

import pytest

from studio.core.data import DataError
from studio.core.data.paths import MAX_SPEC_BYTES, read_source, spec_for_path
from studio.core.project import default_project, save_project


def test_folders_tables_and_arrays(tmp_path):
    classes = tmp_path / "pets"
    (classes / "cat").mkdir(parents=True)
    image = classes / "cat" / "1.PNG"
    image.write_bytes(b"")
    assert spec_for_path(classes) == {"source": "folder", "path": str(classes)}
    assert spec_for_path(image) == {"source": "folder", "path": str(classes)}  # an image stands for its folder
    for name in ("t.csv", "t.TSV", "t.txt"):
        (tmp_path / name).write_text("a,b\n1,2\n")
        assert spec_for_path(tmp_path / name) == {"source": "csv", "path": str(tmp_path / name)}
    (tmp_path / "x.npz").write_bytes(b"")
    assert spec_for_path(str(tmp_path / "x.npz")) == {"source": "npz", "path": str(tmp_path / "x.npz")}
    (tmp_path / "x.npy").write_bytes(b"")
    assert spec_for_path(tmp_path / "x.npy") == {"source": "npy", "path": str(tmp_path / "x.npy")}
    (tmp_path / "list.csv").write_text("path,label\ncat/1.PNG,cat\n")
    assert spec_for_path(tmp_path / "list.csv") == {"source": "image_list", "path": str(tmp_path / "list.csv")}


def test_a_csv_of_texts_is_read_as_texts(tmp_path):
    named = tmp_path / "texts.csv"
    named.write_text("text,label\ngreat film,pos\nbad,neg\n")
    assert spec_for_path(named) == {"source": "text_csv", "path": str(named), "text": "text"}
    wordy = tmp_path / "reviews.csv"
    wordy.write_text("id,review,stars\n1,a lovely film and a fine cast,5\n2,\"dull, long and slow to start\",1\n")
    assert spec_for_path(wordy) == {"source": "text_csv", "path": str(wordy), "text": "review"}
    table = tmp_path / "table.csv"
    table.write_text("colour,size,label\nlight red,2,a\ndark blue,3,b\n")  # short categories stay a table
    assert spec_for_path(table) == {"source": "csv", "path": str(table)}


def test_spec_files_inline_json_projects_and_names(tmp_path):
    spec = {"source": "digits", "max_samples": 40}
    (tmp_path / "plain.json").write_text(json.dumps(spec))
    (tmp_path / "full.json").write_text(json.dumps({"dataset": spec, "augmentation": [], "training": {"seed": 3}}))
    assert spec_for_path(tmp_path / "plain.json") == spec
    full = read_source(tmp_path / "full.json")
    assert full.spec == spec and full.augmentation == [] and full.training == {"seed": 3}
    assert read_source(tmp_path / "plain.json").augmentation is None
    assert spec_for_path(json.dumps(spec)) == spec
    project = default_project()
    project.dataset = {"source": "shapes", "seed": 5}
    save_project(project, tmp_path / "p.dlstudio")
    found = read_source(tmp_path / "p.dlstudio")
    assert found.spec == project.dataset and found.training == project.training
    assert spec_for_path("digits") == {"source": "digits"}


@pytest.mark.parametrize("make, message", [
    (lambda d: "no_such_thing", "no such file or folder, and not a built-in dataset (digits"),
    (lambda d: d / "model.keras", "model.keras is not a dataset: give a folder"),
    (lambda d: d / "bad.json", "bad.json: not valid JSON"),
    (lambda d: d / "list.json", 'a dataset spec is a JSON object like {"source": "digits"}'),
    (lambda d: '{"source": ', "the inline dataset spec: not valid JSON"),
    (lambda d: d / "big.json", "big.json cannot be a dataset spec: larger than 1 MiB"),
    (lambda d: d / "broken.dlstudio", "broken.dlstudio"),
])
def test_anything_else_is_refused_in_one_line(tmp_path, make, message):
    (tmp_path / "model.keras").write_bytes(b"PK")
    (tmp_path / "bad.json").write_text("{nope")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "big.json").write_text(" " * (MAX_SPEC_BYTES + 1))
    (tmp_path / "broken.dlstudio").write_text("not json")
    with pytest.raises(DataError) as caught:
        spec_for_path(make(tmp_path))
    text = str(caught.value)
    assert message in text and "\n" not in text
