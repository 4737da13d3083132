"""Generates the scikit-learn ONNX models and expected predictions used by
test_smartredis_models.py. The outputs are committed beside this script under
models/, so running the tests needs only smartredis and numpy; rerun this only
to regenerate them:

    pip install scikit-learn skl2onnx   # (numpy<2, as in tests/requirements.txt)
    python3 tests/python/make_sklearn_models.py

The models are the ones SmartSim's own backend test (tests/backends/run_sklearn_onnx.py)
stores with SmartRedis:

* kmeans.onnx: KMeans(n_clusters=2, random_state=0) fitted on
  np.arange(20, dtype=np.float32).reshape(10, 2), converted with
  skl2onnx.to_onnx(model, X, target_opset=11). One input [N, 2] float32, two
  outputs: int64 labels [N] and float32 distances to the centres [N, 2]
  (skl2onnx names them "label" and "scores").
  Expected: kmeans_X.npy (the input), kmeans_labels.npy (model.predict(X)),
  kmeans_transform.npy (model.transform(X), float32).
* random_forest.onnx: RandomForestRegressor(n_estimators=100, random_state=0)
  fitted on iris (X float32, y = target), converted the same way (opset 13,
  as SmartSim's test). One input [N, 4] float32, one output [N, 1] float32.
  Expected: random_forest_X.npy (the first 10 iris rows), random_forest_pred.npy
  (model.predict on them, float32, shape [10]); random_forest_X_all.npy and
  random_forest_pred_all.npy the same for all 150 rows (the first 10 are all
  class 0, so their predictions are all 0.0).
* manifest.txt: the library versions that made the files, and sha256 of each.
"""

import hashlib
import sys
from pathlib import Path

import numpy as np
import onnx
import skl2onnx
import sklearn
from skl2onnx import to_onnx
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestRegressor

OUT = Path(__file__).resolve().parent / "models"


def save_model(name, onx):
    data = onx.SerializeToString()
    (OUT / name).write_bytes(data)
    return data


def main():
    OUT.mkdir(exist_ok=True)

    # KMeans
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    km = KMeans(n_clusters=2, random_state=0, n_init=10)
    km.fit(X)
    onx = to_onnx(km, X, target_opset=11)
    outs = [o.name for o in onx.graph.output]
    assert outs == ["label", "scores"], outs
    save_model("kmeans.onnx", onx)
    np.save(OUT / "kmeans_X.npy", X)
    np.save(OUT / "kmeans_labels.npy", km.predict(X).astype(np.int64))
    np.save(OUT / "kmeans_transform.npy", km.transform(X).astype(np.float32))

    # RandomForestRegressor on iris
    iris = load_iris()
    Xi = iris.data.astype(np.float32)
    yi = iris.target
    rf = RandomForestRegressor(n_estimators=100, random_state=0)
    rf.fit(Xi, yi)
    onx = to_onnx(rf, Xi, target_opset=13)
    save_model("random_forest.onnx", onx)
    np.save(OUT / "random_forest_X.npy", Xi[:10])
    np.save(OUT / "random_forest_pred.npy", rf.predict(Xi[:10]).astype(np.float32))
    # The first 10 rows are all class 0 (every prediction is 0.0): the whole
    # data set gives non-trivial averages over the trees too.
    np.save(OUT / "random_forest_X_all.npy", Xi)
    np.save(OUT / "random_forest_pred_all.npy", rf.predict(Xi).astype(np.float32))

    lines = [
        f"python {sys.version.split()[0]}",
        f"numpy {np.__version__}",
        f"scikit-learn {sklearn.__version__}",
        f"skl2onnx {skl2onnx.__version__}",
        f"onnx {onnx.__version__}",
    ]
    for p in sorted(OUT.iterdir()):
        if p.name == "manifest.txt":
            continue
        lines.append(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}")
    (OUT / "manifest.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
