// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file trainer.hpp
/// The training loop shared by every method: AdamW with Hugging Face's decay exclusions, linear
/// schedule, gradient clipping, seed, evaluation every N steps with best-checkpoint keeping,
/// resume from a checkpoint, metrics as JSON lines, progress through a callback.
///
/// Crash safety: `best/` and `last/` are each filled under a temporary name and put in place by one
/// rename (`detail::StagedDirectory`), so a process killed at any moment leaves the previous
/// checkpoint whole; each `metrics.jsonl` record is appended by one `write` call, so no line is
/// torn; and a resumed run first cuts `metrics.jsonl` back to the resumed step, so that the file of
/// a killed-and-resumed run equals the one of a run that was never stopped.

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/detail/json_value.hpp>
#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/error.hpp>
#include <vikcse/model/data_parallel.hpp>
#include <vikcse/model/module_device.hpp>
#include <vikcse/model/row_gather.hpp>
#include <vikcse/optim/optimizer.hpp>
#include <vikcse/train/checkpoint.hpp>
#include <vikcse/train/data.hpp>
#include <vikcse/train/rng_state.hpp>
#include <vikcse/util/signals.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace vikcse {

/// What the model is selected on: SimCSE's protocol selects on STS-B dev; VIKCSE's reference code
/// selects on the average of the seven STS test sets, which only a reproduction should do.
enum class SelectOn {
  dev,   ///< STS-B dev Spearman (SimCSE protocol; default)
  test,  ///< a test-set score (VIKCSE reference, V9) — reproduction only; the trainer warns
};

/// Options of `Trainer`.
struct TrainerOptions {
  /// Peak learning rate. Default: 3e-5 (SimCSE BERT-base).
  TORCH_ARG(double, learning_rate) = 3e-5;
  /// AdamW weight decay (not on biases/LayerNorm). Default: 0.
  TORCH_ARG(double, weight_decay) = 0.0;
  /// Epochs over the batch source. Default: 1.
  TORCH_ARG(std::int64_t, epochs) = 1;
  /// Stop after this many steps (> 0); the schedule then decays over it. Default: -1 (epochs).
  TORCH_ARG(std::int64_t, max_steps) = -1;
  /// Linear warm-up steps. Default: 0 (no warm-up).
  TORCH_ARG(std::int64_t, warmup_steps) = 0;
  /// Gradient-norm clipping (<= 0: off). Default: 1.0.
  TORCH_ARG(double, max_grad_norm) = 1.0;
  /// Read the loss, its terms and the gradient norm every N steps (and at the last step and at
  /// evaluations), and write a metrics record then. Reading a value waits for the device, so on a
  /// GPU N > 1 lets steps queue up without a host synchronisation; a non-finite loss is then caught
  /// at the next read ("at or before step S"). Default: 1 (every step).
  TORCH_ARG(std::int64_t, logging_steps) = 1;
  /// Seed of torch (dropout, initialisation) and of the data order. Default: 42.
  TORCH_ARG(std::uint64_t, seed) = 42;
  /// Evaluate after every step that is a multiple of N, and only then, as Hugging Face's trainer
  /// does with step-wise evaluation: the last step is not evaluated unless it is such a multiple
  /// (an extra evaluation there would offer a checkpoint the reference could never select).
  /// <= 0: once, after the last step. Default: 125.
  TORCH_ARG(std::int64_t, eval_steps) = 125;
  /// Where `best/`, `last/` and `metrics.jsonl` go; empty: nothing is written. Default: empty.
  TORCH_ARG(std::filesystem::path, output_dir) = {};
  /// What the evaluator measures; `test` only for reproducing test-set selection (warned).
  TORCH_ARG(SelectOn, select_on) = SelectOn::dev;
  /// Resume from a `last/` directory written by an earlier run. Default: empty.
  TORCH_ARG(std::filesystem::path, resume_from) = {};
  /// Also write `last/` (model, optimizer, step) every N steps, for resuming; <= 0: only at the end.
  /// Default: 0.
  TORCH_ARG(std::int64_t, save_steps) = 0;
  /// How checkpoints are written (sentence-transformers pooling, tokenizer files).
  TORCH_ARG(SaveOptions, save) = {};
  /// Mixed precision: the forward pass runs under bf16 autocast on the model's device (CUDA, or any
  /// x86-64 CPU, where it is correct but not always faster). Weights, gradients and
  /// the optimizer state stay float32, the InfoNCE losses are computed in float32, and evaluation
  /// runs in float32. Default: false.
  TORCH_ARG(bool, bf16) = false;
  /// Data-parallel training over these ranks (`vikcse/distributed/data_parallel.hpp` makes one from
  /// a c10d process group; `model/data_parallel.hpp` says how a step runs). Every rank calls `fit`
  /// with the same options and batch source; the batch source's batches are the GLOBAL batches,
  /// of which each rank trains its share of rows, with negatives from every rank. Rank 0 alone
  /// evaluates, writes `metrics.jsonl` and checkpoints, and reports progress and records; the
  /// other ranks wait for it in the next step's collectives, so the process group's timeout must
  /// exceed the longest evaluation. Null or a world of one: one process. Default: null.
  TORCH_ARG(std::shared_ptr<const DataParallel>, data_parallel) = nullptr;
};

/// One progress report, given to the progress callback after every step.
struct TrainProgress {
  std::int64_t step = 0;         ///< steps done
  std::int64_t total = 0;        ///< steps in all
  double loss = 0.0;             ///< loss of this step
  double learning_rate = 0.0;    ///< learning rate used in this step
  double elapsed_seconds = 0.0;  ///< since the start of `fit` (this process)
  double eta_seconds = 0.0;      ///< estimated time left
};

/// The outcome of `fit`.
struct TrainResult {
  std::int64_t steps = 0;                                        ///< steps done (including resumed ones)
  double best_score = -std::numeric_limits<double>::infinity();  ///< best evaluation score
  std::int64_t best_step = -1;                                   ///< step of the best score (-1: never evaluated)
  double initial_score = std::nan("");                           ///< score before training (when evaluated)
  double final_loss = std::nan("");                              ///< loss of the last step
  bool interrupted = false;  ///< stopped early by `Trainer::stop_when` (Ctrl-C): `last/` holds step `steps`
};

/// Where the trainer is, for `Trainer::on_phase` (tests that kill a run at a chosen moment, traces).
enum class TrainPhase {
  step,        ///< inside step `step`: gradients computed, parameters not yet updated
  evaluation,  ///< about to evaluate after step `step`
  checkpoint,  ///< a file of a checkpoint has been written, the checkpoint is not yet in place
};

/// Trains a host (`SentenceEmbedder<...>` holder) on a batch source.
///
/// Example:
/// ```
/// vikcse::Trainer trainer(vikcse::TrainerOptions().learning_rate(3e-5).output_dir("out"));
/// trainer.on_progress([&](const vikcse::TrainProgress& p) { ... });
/// auto result = trainer.fit(model, source, [&] { return sts_b_dev_spearman(model); });
/// ```
class Trainer {
public:
  /// Scores the model (higher is better); the trainer sets eval mode and no-grad around it.
  using Evaluator = std::function<double()>;

  explicit Trainer(TrainerOptions options) : options_(std::move(options)) {}

  /// Called after each step.
  void on_progress(std::function<void(const TrainProgress&)> callback) { progress_ = std::move(callback); }
  /// Called with every metrics record (also written to `metrics.jsonl`), and with warnings
  /// (`{"warning": ...}`).
  void on_record(std::function<void(const nlohmann::json&)> callback) { record_ = std::move(callback); }
  /// Called at the moments of `TrainPhase` with the step and, for `checkpoint`, the file written.
  void on_phase(std::function<void(TrainPhase, std::int64_t, const std::filesystem::path&)> callback) {
    phase_ = std::move(callback);
  }
  /// Polled after every step; when it returns true the loop stops there, saves `last/` (when there is
  /// an output directory) and returns with `TrainResult::interrupted`. Default: `vikcse::stop_requested`
  /// (Ctrl-C or SIGTERM after `install_stop_handlers()`).
  void stop_when(std::function<bool()> predicate) { stop_ = std::move(predicate); }

  /// Runs the loop. `evaluate` may be empty (no evaluation, no best checkpoint). When
  /// `evaluate_initial`, the untrained model is scored first (`TrainResult::initial_score`).
  /// @tparam Holder a `SentenceEmbedder<...>` holder.
  template <typename Holder>
  TrainResult fit(Holder& model, const BatchSource& source, const Evaluator& evaluate = {},
                  bool evaluate_initial = false) {
    if (source.steps_per_epoch <= 0 || !source.batch)
      throw_error<invalid_argument>("Trainer: the batch source is empty");
    if (options_.epochs() <= 0 && options_.max_steps() <= 0) {
      throw_error<invalid_argument>("Trainer: epochs ({}) or max_steps ({}) must be positive", options_.epochs(),
                                    options_.max_steps());
    }
    const auto total = options_.max_steps() > 0 ? options_.max_steps() : options_.epochs() * source.steps_per_epoch;
    if (options_.logging_steps() <= 0)
      throw_error<invalid_argument>("Trainer: logging_steps must be positive, got {}", options_.logging_steps());
    torch::manual_seed(options_.seed());
    auto optimizer = make_adamw(*model, {options_.learning_rate(), options_.weight_decay()});
    TrainResult result;
    auto step = start(model, *optimizer, lead() ? evaluate : Evaluator{}, evaluate_initial, result);
    const auto& out_dir = lead() ? options_.output_dir() : std::filesystem::path();
    model->train();
    const auto started = std::chrono::steady_clock::now();
    const auto first_step = step;
    collective([&] { broadcast_from_rank0(*model); }, step + 1);
    while (step < total) {
      const auto lr = linear_lr(options_.learning_rate(), step, total, options_.warmup_steps());
      const bool do_eval = lead() && evaluate &&
                           (options_.eval_steps() > 0 ? (step + 1) % options_.eval_steps() == 0 : step + 1 == total);
      const bool read = do_eval || step + 1 == total || (step + 1) % options_.logging_steps() == 0;
      auto record = collective(
          [&] {
            return train_step(model, *optimizer,
                              source.batch(step / source.steps_per_epoch, step % source.steps_per_epoch), lr, step,
                              read);
          },
          step + 1);
      ++step;
      if (read) {
        result.final_loss = record["loss"].template get<double>();
        record["epoch"] = static_cast<double>(step) / static_cast<double>(source.steps_per_epoch);
        if (do_eval) evaluate_and_keep_best(model, evaluate, step, result, record);
        emit(record);
      }
      bool stop = step < total && stop_ && stop_();
      if (parallel() && step < total) {  // one rank's Ctrl-C stops them all at the same step
        stop = collective([&] { return options_.data_parallel()->all_reduce_max(stop ? 1.0 : 0.0) > 0.0; }, step);
      }
      if (!out_dir.empty() && step < total &&
          (stop || (options_.save_steps() > 0 && step % options_.save_steps() == 0))) {
        save_state(*model, *optimizer, step, result);
      }
      if (stop) {
        result.interrupted = true;
        break;
      }
      if (progress_ && lead()) {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const auto done = static_cast<double>(step - first_step);
        progress_({step, total, result.final_loss, lr, elapsed,
                   done > 0 ? elapsed / done * static_cast<double>(total - step) : 0.0});
      }
    }
    result.steps = step;
    if (!out_dir.empty() && !result.interrupted) save_state(*model, *optimizer, step, result);
    // Every rank returns once rank 0's last checkpoint is in place (a resume may follow at once).
    if (parallel()) collective([&] { options_.data_parallel()->barrier(); }, step);
    return result;
  }

  /// The options.
  [[nodiscard]] const TrainerOptions& options() const { return options_; }

private:
  /// More than one rank.
  [[nodiscard]] bool parallel() const { return options_.data_parallel() && options_.data_parallel()->world_size() > 1; }
  /// Rank 0, or the only process: the one that evaluates, writes and reports.
  [[nodiscard]] bool lead() const { return !parallel() || options_.data_parallel()->rank() == 0; }
  [[nodiscard]] int world_size() const { return parallel() ? options_.data_parallel()->world_size() : 1; }

  /// Runs `work` (which may use the collectives) and, in data-parallel training, names the rank
  /// and step in what a failing collective throws: when another rank exits or hangs, the
  /// collectives fail after at most the process group's timeout, and the run must end with a
  /// message, not wait forever.
  /// `step`: the number (from 1) of the step the work belongs to.
  template <typename Work>
  auto collective(Work&& work, std::int64_t step) -> decltype(work()) {
    if (!parallel()) return work();
    try {
      return work();
    } catch (const vikcse::error&) {
      throw;
    } catch (const vikcse::invalid_argument&) {
      throw;
    } catch (const std::exception& e) {  // c10::Error, or Gloo's own exceptions rethrown by wait()
      const auto* c10 = dynamic_cast<const c10::Error*>(&e);
      const std::string what = c10 != nullptr ? c10->what_without_backtrace() : e.what();
      throw_error<error>(
          "data-parallel training, rank {} of {}, step {}: a collective failed ({}): another rank has most likely "
          "exited or hung; the process group's timeout bounds this wait",
          options_.data_parallel()->rank(), world_size(), step, what.substr(0, what.find('\n')));
    }
  }

  /// All ranks start from rank 0's parameters and buffers.
  void broadcast_from_rank0(torch::nn::Module& model) {
    if (!parallel()) return;
    auto tensors = model.parameters();
    for (const auto& b : model.buffers()) tensors.push_back(b);
    options_.data_parallel()->broadcast_from_rank0(tensors);
  }

  /// Sums the gradients of the parameters that saw only this rank's rows and averages those of
  /// the loss policy, which saw every rank's rows (`model/data_parallel.hpp`).
  template <typename Holder>
  void reduce_gradients(Holder& model) {
    std::unordered_set<const void*> in_loss;
    if constexpr (requires { model->loss->parameters(); }) {
      for (const auto& p : model->loss->parameters()) in_loss.insert(p.unsafeGetTensorImpl());
    }
    std::vector<torch::Tensor> summed, averaged;
    for (const auto& p : model->parameters()) (in_loss.count(p.unsafeGetTensorImpl()) ? averaged : summed).push_back(p);
    options_.data_parallel()->all_reduce_gradients(summed, /*average=*/false);
    options_.data_parallel()->all_reduce_gradients(averaged, /*average=*/true);
  }

  /// Before the first step: the output directory, the test-selection warning, the resumed state
  /// and the untrained score. Returns the step to start from.
  template <typename Holder>
  std::int64_t start(Holder& model, torch::optim::Optimizer& optimizer, const Evaluator& evaluate,
                     bool evaluate_initial, TrainResult& result) {
    std::int64_t step = 0;
    if (lead() && !options_.output_dir().empty()) prepare_output_dir();
    if (options_.select_on() == SelectOn::test) {
      emit({{"warning",
             "model selection on a TEST set (select_on=test): scores are optimistic; use only to "
             "reproduce the VIKCSE reference protocol"}});
    }
    if (!options_.resume_from().empty()) {
      step = resume(*model, optimizer, result);
    } else if (lead() && !options_.output_dir().empty()) {
      cut_metrics(-1);  // a new run in an old directory starts its own metrics
    }
    if (evaluate && evaluate_initial && step == 0) {
      result.initial_score = score(model, evaluate);
      emit({{"step", 0}, {"eval", result.initial_score}});
    }
    return step;
  }

  /// One optimisation step on `batch` at learning rate `lr` (the step's number is `step` + 1);
  /// returns its metrics record (step, loss, lr, grad_norm, loss terms) when `read`, else only step
  /// and lr: nothing is read from the device then.
  /// @throws vikcse::error when a loss read is not finite.
  template <typename Holder>
  nlohmann::json train_step(Holder& model, torch::optim::Optimizer& optimizer, const TrainingBatch& batch, double lr,
                            std::int64_t step, bool read) {
    set_learning_rate(optimizer, lr);
    optimizer.zero_grad();
    const auto device = module_device(*model);  // the batch comes to the model (CPU or CUDA)
    auto out = [&] {
      std::optional<detail::AutocastGuard> autocast;
      if (options_.bf16()) autocast.emplace(device.type(), /*enabled=*/true, torch::kBFloat16);
      if (!parallel()) return model->forward(batch.to(device));
      const auto& dp = *options_.data_parallel();
      const auto local = shard_rows(batch, dp.rank(), dp.world_size()).to(device);
      if constexpr (requires { model->forward(local, RowGather{}); }) {
        return model->forward(local, [&dp](const torch::Tensor& t) { return dp.all_gather_rows(t); });
      } else {
        throw_error<invalid_argument>(
            "Trainer: data-parallel training needs a host with forward(batch, RowGather) (SentenceEmbedder has it)");
      }
    }();
    nlohmann::json record = {{"step", step + 1}};
    if (read) {
      const auto loss = out.total.template item<double>();
      if (!std::isfinite(loss)) {
        throw_error<error>("Trainer: the loss became non-finite ({}) at {}step {}", loss,
                           options_.logging_steps() > 1 ? "or before " : "", step + 1);
      }
      record["loss"] = loss;
    }
    record["lr"] = lr;
    out.total.backward();
    if (parallel()) reduce_gradients(model);
    torch::Tensor grad_norm;
    if (options_.max_grad_norm() > 0) grad_norm = clip_grad_norm(model->parameters(), options_.max_grad_norm());
    if (phase_) phase_(TrainPhase::step, step + 1, {});
    optimizer.step();
    if (read) {
      if (grad_norm.defined()) record["grad_norm"] = grad_norm.template item<double>();
      for (const auto& [name, value] : out.terms) record["loss_" + name] = value.template item<double>();
    }
    return record;
  }

  /// Scores the model after `step`, records it, and saves the `best` checkpoint when it improves.
  template <typename Holder>
  void evaluate_and_keep_best(Holder& model, const Evaluator& evaluate, std::int64_t step, TrainResult& result,
                              nlohmann::json& record) {
    if (phase_) phase_(TrainPhase::evaluation, step, {});
    const auto s = score(model, evaluate);
    record["eval"] = s;
    if (s > result.best_score) {
      result.best_score = s;
      result.best_step = step;
      record["best"] = true;
      if (!options_.output_dir().empty()) {
        detail::StagedDirectory best(options_.output_dir() / "best");
        save_model_checkpoint(*model, best.path(), options_.save());
        written(step, best.path() / "model.safetensors");
        best.publish();
      }
    }
    model->train();
  }

  template <typename Holder>
  double score(Holder& model, const Evaluator& evaluate) {
    model->eval();
    torch::NoGradGuard no_grad;
    return evaluate();
  }

  /// Creates the output directory, checks that it can be written in (a read-only directory fails
  /// here, before any training), and clears what a killed run left half written beside `best/` and
  /// `last/` (`detail::recover_directory`).
  void prepare_output_dir() {
    const auto& dir = options_.output_dir();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw_error<checkpoint_error>("{}: cannot create the output directory: {}", dir.string(), ec.message());
    detail::write_text_atomically<checkpoint_error>(dir / ".write-check", "");
    std::filesystem::remove(dir / ".write-check", ec);
    detail::recover_directory(dir / "best");
    detail::recover_directory(dir / "last");
  }

  void written(std::int64_t step, const std::filesystem::path& file) {
    if (phase_) phase_(TrainPhase::checkpoint, step, file);
  }

  void emit(const nlohmann::json& record) {
    if (!lead()) return;
    if (!options_.output_dir().empty()) {
      detail::append_line<error>(options_.output_dir() / "metrics.jsonl", record.dump() + "\n");
    }
    if (record_) record_(record);
  }

  /// Keeps the records of `metrics.jsonl` up to and including `step` (those after it will be written
  /// again by the resumed run; -1 keeps none) and drops a line that is not JSON, which only a file
  /// written by another program could hold; rewritten atomically.
  void cut_metrics(std::int64_t step) {
    const auto path = options_.output_dir() / "metrics.jsonl";
    if (step < 0) {
      std::error_code ec;
      std::filesystem::remove(path, ec);
      if (ec) throw_error<error>("{}: cannot remove the previous run's metrics: {}", path.string(), ec.message());
      return;
    }
    std::ifstream in(path);
    if (!in) return;
    std::string kept, line;
    while (std::getline(in, line)) {
      const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (record.is_discarded()) continue;
      if (record.is_object() && record.contains("step") && record["step"].is_number_integer() &&
          record["step"].get<std::int64_t>() > step) {
        break;
      }
      kept += line + "\n";
    }
    detail::write_text_atomically<error>(path, kept);
  }

  template <typename Impl>
  void save_state(Impl& model, torch::optim::Optimizer& optimizer, std::int64_t step, const TrainResult& result) {
    detail::StagedDirectory last(options_.output_dir() / "last");
    const auto& dir = last.path();
    save_model_checkpoint(model, dir, options_.save());
    written(step, dir / "model.safetensors");
    detail::write_file_atomically<checkpoint_error>(dir / "optimizer.pt",
                                                    [&](std::ofstream& out) { torch::save(optimizer, out); });
    written(step, dir / "optimizer.pt");
    save_rng_state(dir / "rng_state.pt");
    written(step, dir / "rng_state.pt");
    nlohmann::json state = {
        {"step", step},
        {"seed", options_.seed()},
        {"world_size", world_size()},
        {"best_step", result.best_step},
        {"best_score", std::isfinite(result.best_score) ? nlohmann::json(result.best_score) : nlohmann::json(nullptr)}};
    detail::write_text_atomically<checkpoint_error>(dir / "trainer_state.json", state.dump(2) + "\n");
    written(step, dir / "trainer_state.json");
    last.publish();
  }

  template <typename Impl>
  std::int64_t resume(Impl& model, torch::optim::Optimizer& optimizer, TrainResult& result) {
    const auto& dir = options_.resume_from();
    const auto state_path = dir / "trainer_state.json";
    std::ifstream in(state_path);
    if (!in) throw_error<checkpoint_error>("{}: cannot resume: no trainer_state.json", dir.string());
    nlohmann::json state;
    try {
      state = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw_error<checkpoint_error>("{}: invalid JSON: {}", state_path.string(), e.what());
    }
    const auto step = detail::json_as<std::int64_t, checkpoint_error>(
        state.contains("step") ? state["step"] : nlohmann::json(), state_path.string() + ": key 'step'");
    const auto saved_world =
        detail::json_value_or<std::int64_t, checkpoint_error>(state, "world_size", 1, state_path.string());
    if (saved_world != world_size()) {
      throw_error<checkpoint_error>(
          "{}: cannot resume: the checkpoint was written by a run of {} rank(s), this run has {}; resume with the "
          "same number of ranks (each rank's share of every batch depends on it)",
          state_path.string(), saved_world, world_size());
    }
    load_model_checkpoint(model, dir);
    // The AdamW moments go where the parameters are (a CPU-written checkpoint resumes on CUDA too).
    torch::load(optimizer, (dir / "optimizer.pt").string(), module_device(model));
    if (lead() && !options_.output_dir().empty()) cut_metrics(step);
    result.best_step =
        detail::json_value_or<std::int64_t, checkpoint_error>(state, "best_step", -1, state_path.string());
    if (state.contains("best_score") && !state["best_score"].is_null())
      result.best_score =
          detail::json_as<double, checkpoint_error>(state["best_score"], state_path.string() + ": key 'best_score'");
    if (std::filesystem::exists(dir / "rng_state.pt")) {
      load_rng_state(dir / "rng_state.pt");  // the dropout stream continues where it stopped
    } else {
      torch::manual_seed(options_.seed() + static_cast<std::uint64_t>(step));
      emit({{"warning", fmt::format("{}: no rng_state.pt (an older checkpoint): dropout after the resume is reseeded "
                                    "with seed + step, so the run will not equal an uninterrupted one",
                                    dir.string())}});
    }
    return step;
  }

  TrainerOptions options_;
  std::function<void(const TrainProgress&)> progress_;
  std::function<void(const nlohmann::json&)> record_;
  std::function<void(TrainPhase, std::int64_t, const std::filesystem::path&)> phase_;
  std::function<bool()> stop_ = [] { return stop_requested(); };
};

}  // namespace vikcse
