"""The golden tensor files' format, shared by tools/reference_nn.py, reference_classification.py
and reference_conv.py (read by test/support/reference.hpp's read_golden_tensors):
"<case> <label> <rank> <sizes..> <values..>" per tensor, "error <case> <message>" per error."""
import os


def line(case, label, t):
    t = t.detach()
    values = " ".join(repr(float(v)) for v in t.reshape(-1).tolist())
    sizes = " ".join(str(s) for s in t.shape)
    return " ".join(x for x in [case, label, str(t.dim()), sizes, values] if x != "")


def error_lines(out, errors):
    """Appends PyTorch's message (its first line) for each (name, call) that must raise."""
    for name, f in errors:
        try:
            f()
        except (RuntimeError, IndexError, ValueError) as e:
            out.append("error %s %s" % (name, str(e).splitlines()[0]))
            continue
        raise AssertionError("no error for " + name)


def write_file(outdir, name, header, lines):
    """Writes the header comment lines, then the records, to outdir/name."""
    path = os.path.join(outdir, name)
    with open(path, "w") as fh:
        fh.write("\n".join(header + lines) + "\n")
    print("wrote %d records to %s" % (len(lines), path))
