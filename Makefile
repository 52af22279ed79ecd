# The two commands of the README's quickstart, and a few more.
.PHONY: practice test test-fast typecheck demo bench setup eval

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
