"""``gradwise info``: what a model file saved by the command holds and how it was made;
``gradwise export``: the same network as an ONNX file that carries its column encoding."""
import json


def add_parser(commands):
    command = commands.add_parser(
        "info", help="describe a model saved by train/tune/anomalies --save: its network, "
                     "columns, classes, results and the command that made it")
    command.add_argument("--model", required=True, help="model file written by --save")
    return command


def add_export_parser(commands):
    command = commands.add_parser(
        "export", help="write a model saved by train/tune/anomalies --save as an ONNX file, "
                       "with its column encoding in the file's metadata (needs onnx)")
    command.add_argument("--model", required=True, help="model file written by --save")
    command.add_argument("--onnx", required=True, metavar="FILE.onnx", help="ONNX file to write")
    return command


def export(args):
    """Write the network as ONNX; the model file's metadata (column encoding, classes, target
    scaling or detector threshold) goes into the ONNX metadata as JSON under ``"gradwise"``."""
    import gradwise as gw
    from . import data as _cli_data
    model, facts = _cli_data.read_cli_model(args.model)
    gw.export_onnx(model, args.onnx, metadata={"gradwise": json.dumps(facts)})
    print(f"wrote {args.onnx}: input X (rows, {model.input_dim}) {model.dtype.name}, the CSV's "
          f"columns encoded as its metadata 'gradwise' describes; output Y (rows, "
          f"{model.output_dim})")
    return facts


def run(args):
    """Print the description; returns the model file's metadata."""
    from . import data as _cli_data
    model, facts = _cli_data.read_cli_model(args.model)
    made = facts.get("provenance") or {}
    print(f"model file: {args.model}")
    if made:
        print(f"made by: gradwise {made['command']} (gradwise {made['gradwise_version']}, "
              f"saved {made['saved']})")
        print(f"data: {made['data']}")
        options = (_option(key, value) for key, value in made["options"].items()
                   if value is not None and value is not False and key != "command")
        print("options: " + " ".join(options))
        if made.get("best_parameters"):  # the search's choice, which the model trained with
            from ..report.tuning import parameter_text
            print("best parameters: " + ", ".join(f"{k}={parameter_text(v)}"
                                                  for k, v in made["best_parameters"].items()))
    else:
        print("made by: an earlier gradwise, which did not record how")
    for line in _what_it_predicts(facts):
        print(line)
    if made.get("scores"):
        print()
        _print_scores(made["scores"])
    print()
    model.summary()
    return facts


def _option(key, value):
    flag = "--" + key.replace("_", "-")
    return flag if value is True else f"{flag} {value}"


def _what_it_predicts(facts):
    """The task, target, classes and input columns, as lines."""
    from .data import ANOMALY_KIND
    columns = facts["columns"]
    kinds = [column["kind"] for column in columns]
    count = kinds.count("date")
    dates = f", {count} date{'s' * (count > 1)}" if count else ""
    lines = [f"columns: {len(columns)} ({kinds.count('number')} numeric, "
             f"{kinds.count('category')} categorical{dates})"
             + (f"; missing numbers filled with training {facts['impute']}s"
                if facts.get("impute") else "")]
    if facts["kind"] == ANOMALY_KIND:
        lines.insert(0, f"task: anomaly detection; rows whose reconstruction error exceeds "
                        f"{facts['threshold']:.4g} are flagged")
        return lines
    task = f"task: {facts['task']} of {facts['target']!r}"
    if facts["task"] == "classification":
        task += f"; classes: {', '.join(map(str, facts['classes']))}"
        if facts.get("positive") is not None:
            task += f" (positive for --threshold: {facts['positive']})"
    return [task] + lines


def _print_scores(scores):
    names = list(next(iter(scores.values())))
    print(f"{'split':<14}" + "".join(f" {name:>12}" for name in names))
    for split, values in scores.items():
        print(f"{split:<14}" + "".join(f" {values[name]:>12.4g}" for name in names))
