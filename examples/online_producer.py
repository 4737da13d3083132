"""Online training, the producer (the chapter's mock simulation): uploads 10
batches of 64 samples of y = 2*x0 - x1 + 0.5, a second apart, with
SmartSim's TrainingDataUploader. run_all.py launches it with key prefixing on,
beside online_trainer.py.
"""

import time

import numpy as np
from smartsim.ml import TrainingDataUploader

BATCHES, BATCH_SIZE = 10, 64
COEFFICIENTS, INTERCEPT = np.array([2.0, -1.0], dtype=np.float32), np.float32(0.5)


def batch(i):
    """Batch i's samples and targets (the trainer rebuilds them to check what it downloaded)."""
    x = np.random.default_rng(i).uniform(-1, 1, size=(BATCH_SIZE, 2)).astype(np.float32)
    return x, (x @ COEFFICIENTS + INTERCEPT).reshape(-1, 1)


def main():
    uploader = TrainingDataUploader(list_name="training_data", cluster=False)
    uploader.publish_info()
    for i in range(BATCHES):
        uploader.put_batch(*batch(i))
        time.sleep(1)
    print(f"online_producer: uploaded {BATCHES} batches of {BATCH_SIZE} samples")


if __name__ == "__main__":
    main()
