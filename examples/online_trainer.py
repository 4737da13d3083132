"""Online training, the training service: a Keras model is trained one epoch at
a time on SmartSim's DynamicDataGenerator (smartsim.ml.tf, SmartSim 0.8's name
for the chapter's DataGenerator), which downloads the producer's new batches
after each epoch. Checked: every sample the producer made arrives; the model
learns the producer's coefficients; stored as TF (serialize_model), it gives in
the Orchestrator what it gives in process.
"""

import numpy as np
from smartredis import Client
from smartsim.ml.tf import DynamicDataGenerator, serialize_model
from tensorflow import keras

from online_producer import BATCH_SIZE, BATCHES, COEFFICIENTS, INTERCEPT, batch

MAX_EPOCHS = 200


def main():
    keras.utils.set_random_seed(0)
    generator = DynamicDataGenerator(data_info_or_list_name="training_data", batch_size=32, cluster=False, wait_interval=0.5)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="mse")
    epoch, grew = 0, []
    # One epoch per fit: Keras does not expect the data set to grow during a fit.
    while epoch < MAX_EPOCHS and (generator.num_samples < BATCHES * BATCH_SIZE or epoch < 60):
        model.fit(generator, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
        epoch += 1
        if not grew or grew[-1] != generator.num_samples:
            grew.append(generator.num_samples)
    print(f"online_trainer: {epoch} epochs; samples seen grew {grew}")

    # Everything the producer made arrived (the generator shuffles: compare sorted rows).
    want = np.concatenate([np.hstack(batch(i)) for i in range(BATCHES)])
    got = np.hstack([generator.samples, generator.targets])
    np.testing.assert_array_equal(np.sort(got, axis=0), np.sort(want, axis=0))
    assert len(grew) > 1, f"the data set never grew during training: {grew}"

    weights, bias = model.layers[0].get_weights()
    np.testing.assert_allclose(weights.reshape(-1), COEFFICIENTS, atol=0.05)
    np.testing.assert_allclose(bias, [INTERCEPT], atol=0.05)

    blob, inputs, outputs = serialize_model(model)
    client = Client(cluster=False)
    # With SSKEYIN set, SmartRedis would read run_model's input under the producer's prefix.
    client.use_tensor_ensemble_prefix(False)
    client.set_model("trained", blob, "TF", device="CPU", inputs=inputs, outputs=outputs)
    test = np.random.default_rng(99).uniform(-1, 1, size=(16, 2)).astype(np.float32)
    client.put_tensor("test_points", test)
    client.run_model("trained", "test_points", "test_predictions")
    np.testing.assert_allclose(client.get_tensor("test_predictions"), model.predict(test, verbose=0), rtol=1e-5, atol=1e-6)
    print(f"online_trainer: learned w={weights.reshape(-1)}, b={bias}; the stored model's 16 predictions match Keras")


if __name__ == "__main__":
    main()
