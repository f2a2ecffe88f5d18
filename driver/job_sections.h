// Reads the config sections shared by training jobs ([model], [train],
// [optim]) into the library structs, with every error naming its key.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "driver/config.h"
#include "model/weights.h"
#include "trainer/trainer.h"

namespace lockstep::driver {

// [model]: either `init_from = "DIR"` (an HF-layout directory lockstep wrote)
// or an architecture (family, hidden_size, ...) with init_std and seed.
absl::StatusOr<ModelWeights> ReadModelSection(const Config& config, DType dtype);

// [train] dtype, micro_batch and [optim] lr, schedule, ...; `total_steps` for the schedule.
absl::StatusOr<trainer::TrainerConfig> ReadTrainerSections(const Config& config,
                                                           int64_t total_steps);

}  // namespace lockstep::driver
