"""Online inference with scikit-learn models converted to ONNX (the chapter's
KMeans and Random Forest examples).

Each model is fitted here, converted with skl2onnx, stored with
set_model(..., "ONNX"), run in the Orchestrator, and its outputs compared with
scikit-learn's own predictions. Launched by run_all.py as a SmartSim Model.
"""

import numpy as np
from skl2onnx import to_onnx
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestRegressor
from smartredis import Client


def kmeans(client):
    """KMeans has two outputs: each point's cluster and its distance to every centre."""
    X = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    km = KMeans(n_clusters=3, random_state=0, n_init=10).fit(X)
    client.set_model("kmeans", to_onnx(km, X, target_opset=11).SerializeToString(), "ONNX", device="CPU")
    client.put_tensor("points", X)
    client.run_model("kmeans", inputs="points", outputs=["labels", "distances"])
    np.testing.assert_array_equal(client.get_tensor("labels"), km.predict(X))
    np.testing.assert_allclose(client.get_tensor("distances"), km.transform(X), rtol=1e-5, atol=1e-5)
    print("sklearn_onnx: KMeans labels equal, distances match scikit-learn")


def random_forest(client):
    """A random forest regressor on the iris data: one output, the prediction per row."""
    iris = load_iris()
    X = iris.data.astype(np.float32)
    forest = RandomForestRegressor(n_estimators=100, random_state=0).fit(X, iris.target)
    client.set_model("forest", to_onnx(forest, X, target_opset=13).SerializeToString(), "ONNX", device="CPU")
    client.put_tensor("iris", X)
    client.run_model("forest", inputs="iris", outputs="predictions")
    got = client.get_tensor("predictions").reshape(-1)
    # The ONNX trees compare in float32 where scikit-learn compares in float64.
    np.testing.assert_allclose(got, forest.predict(X), rtol=1e-4, atol=1e-4)
    print(f"sklearn_onnx: RandomForest predictions for 150 rows match scikit-learn (max diff {np.abs(got - forest.predict(X)).max():.2e})")


def main():
    client = Client(cluster=False)
    kmeans(client)
    random_forest(client)


if __name__ == "__main__":
    main()
