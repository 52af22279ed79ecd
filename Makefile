# The two commands of the README's quickstart, and a few more.
.PHONY: practice test test-fast typecheck demo bench setup eval eval-noise eval-voices train-star

# onnxruntime records usage events for a Microsoft collector from the moment it is imported;
# starcoach turns that off itself (asr/whisper_model.native_settings), and this does the same for
# the evaluation and benchmark scripts that import faster-whisper directly (the baseline).
export ORT_DISABLE_TELEMETRY := 1

setup:
	@scripts/setup.sh

# The main job: practise answering questions at the microphone.
practice: setup
	@.venv/bin/starcoach practice

# The type check, then every test: the slow ones with the real model and the virtual
# microphone included.
test:
	@scripts/setup.sh --test
	@.venv/bin/python -m mypy
	@.venv/bin/python -m pytest -q

typecheck:
	@scripts/setup.sh --test
	@.venv/bin/python -m mypy

# The tests that need neither the model nor the audio stack (seconds).
test-fast:
	@scripts/setup.sh --test
	@.venv/bin/python -m pytest -q -m "not slow and not audio"

# Analyse the committed sample answer: works with no microphone.
demo: setup
	@.venv/bin/starcoach analyze samples/demo-answer.flac

# Speed and memory figures (issue: speed). Prints a table.
bench:
	@scripts/setup.sh --test
	@.venv/bin/python bench/bench.py

# Score the analyzer on the shared dev corpus.
eval: setup
	@.venv/bin/python ../shared/tools/eval_corpus.py ../shared/corpus/dev --cmd '.venv/bin/starcoach analyze {audio} --json'

# starcoach and the issue-14 baseline side by side on the dev corpus and its noisy copies
# (pink, brown, white, fan at 20/15/10 dB, fan 15 dB with RT60 0.4 s). Long: about an hour.
eval-noise: setup
	@.venv/bin/python eval/eval_noise.py ../shared/corpus/dev --cmd '.venv/bin/starcoach analyze {audio} --json'

# Synthetic voices none of the dev corpus uses (eval/make_voices.py), scored per voice: first the
# eight espeak-ng voices the filler rules were chosen on (6 answers each), then three flite voices
# held out from all tuning (8 answers each; another synthesiser), then three Festival voices (8
# answers each; a third synthesiser, added when the flite voices' errors had been studied, so
# never looked at before it was scored), then SVOX Pico's two voices (8 answers each; a fourth,
# added in session 40 and scored as it came): the figures for "voices left out of training and
# tuning". About 40 minutes. Fewer answers per voice are too few: a voice's figure over three
# answers moves by up to 0.12 between renderings that differ only in dither.
eval-voices:
	@scripts/setup.sh --test
	@test -d /tmp/starcoach-voices-espeak6 || \
	  .venv/bin/python eval/make_voices.py /tmp/starcoach-voices-espeak6 --answers-per-voice 6
	@test -d /tmp/starcoach-voices-flite8 || \
	  .venv/bin/python eval/make_voices.py /tmp/starcoach-voices-flite8 --voices held-out --answers-per-voice 8
	@test -d /tmp/starcoach-voices-festival8 || \
	  .venv/bin/python eval/make_voices.py /tmp/starcoach-voices-festival8 --voices festival --answers-per-voice 8
	@test -d /tmp/starcoach-voices-pico8 || \
	  .venv/bin/python eval/make_voices.py /tmp/starcoach-voices-pico8 --voices pico --answers-per-voice 8
	@echo "## Tuning voices (espeak-ng)"
	@.venv/bin/python eval/eval_voices.py /tmp/starcoach-voices-espeak6 --cmd '.venv/bin/starcoach analyze {audio} --json'
	@echo "## Held-out voices (flite)"
	@.venv/bin/python eval/eval_voices.py /tmp/starcoach-voices-flite8 --cmd '.venv/bin/starcoach analyze {audio} --json'
	@echo "## Held-out voices (Festival)"
	@.venv/bin/python eval/eval_voices.py /tmp/starcoach-voices-festival8 --cmd '.venv/bin/starcoach analyze {audio} --json'
	@echo "## Held-out voices (SVOX Pico)"
	@.venv/bin/python eval/eval_voices.py /tmp/starcoach-voices-pico8 --cmd '.venv/bin/starcoach analyze {audio} --json'

# Retrain the STAR tagger from ../shared/star-corpus: rewrites src/starcoach/data/star_tagger.npz bit for
# bit (fixed seeds, one thread) and prints the leave-one-source-out figures, then the figures on
# ../shared/star and on tests/data/star_extra (neither used for training). About 20 minutes on 2 cores.
train-star: setup
	@OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 10 .venv/bin/python training/train_star.py
	@OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python training/eval_star.py
