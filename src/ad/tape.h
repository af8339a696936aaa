// Signal-level reverse-mode automatic differentiation.
//
// A Tape holds nodes; each node is an operation on whole buffers (a 1 s signal is one node, not
// 16,000). Nodes are referenced by index and creation order is a topological order, so the
// backward pass is a reverse loop. Ops run eagerly when they are created (so shapes are known and
// values can be inspected while building), and the same graph is then re-run with forward() and
// backward() as often as needed: after the first pass nothing allocates, because every node
// keeps its value and gradient buffers.
//
//   ad::Tape tape;
//   ad::Var x = tape.variable(x0);            // leaf that receives a gradient
//   ad::Var loss = ad::mean(ad::square(x - tape.constant(target)));
//   tape.backward(loss);                       // tape.grad(x) now holds d loss / d x
//   tape.set_value(x, x1); tape.forward();     // re-run the same graph on new values
//
// Memory policy: the tape also keeps memory across rebuilds. Training rebuilds the graph every
// step (truncate() to the weights, then new nodes), and freeing tens of MB per step made glibc
// hand the pages back to the kernel and fault them in again, zero-filled, on the next step (a
// native autoencoder step ran 2-3x slower than with a tuned malloc). So truncate() does not free
// the dropped nodes: it keeps them as spares by position, and the node next pushed at that
// position takes the spare's value and gradient buffers and, if it is of the same op type, its
// workspaces (Node::adopt). Eigen assignments and std::vector resizes of an equal size then
// reuse the memory, so rebuilding the same graph allocates (almost) nothing. Spares live until
// they are reused, the tape is destroyed or release_spares() is called; nodes must therefore size
// every buffer they write in forward()/backward() (a cheap no-op at the same size), never assume
// a fresh node's buffers are empty.
//
// Forward-only tapes (Tape::Mode::forward_only) allocate no gradient buffers and refuse
// backward(): genetic search and real-time rendering use them.
//
// Shapes: every value is a 2-D array (Arr). Signals are columns (n x 1), frame-wise controls are
// (frames x channels), spectrograms are (bins x frames), scalars are 1 x 1.
#pragma once

#include "dsp/types.h"

#include <memory>
#include <string>
#include <vector>

namespace ddsp::ad {

class Tape;

// A handle to a node on a tape. Cheap to copy.
struct Var {
    Tape* tape = nullptr;
    int id = -1;

    bool valid() const { return tape != nullptr && id >= 0; }
    const Arr& value() const;
    const Arr& grad() const;
    int rows() const { return int(value().rows()); }
    int cols() const { return int(value().cols()); }
    Eigen::Index size() const { return value().size(); }
    Real item() const { return value()(0, 0); }  // the value of a 1 x 1 node
};

// One operation. Subclasses compute `value` from their inputs' values in forward() and add their
// contribution to their inputs' gradients in backward() (the node's own gradient is `grad`).
class Node {
public:
    virtual ~Node() = default;
    virtual const char* op_name() const = 0;
    virtual void forward(Tape& tape) = 0;
    virtual void backward(Tape& tape) = 0;
    // Called by Tape::push, before the first forward(), with the node truncated from the same
    // position when it is of the same type: take over its workspaces (swap, so `old` frees what
    // this node had) so that equal-sized ones are not allocated again. The tape moves `value`
    // and `grad` itself. Workspaces may arrive with any size or contents.
    virtual void adopt(Node& old) {}

    std::vector<int> inputs;
    Arr value;
    Arr grad;                    // allocated only when requires_grad
    bool requires_grad = false;  // true when any leaf variable upstream needs a gradient
    bool is_leaf = false;
    bool grad_written = true;    // false during backward() until something writes `grad`
};

class Tape {
public:
    enum class Mode { gradient, forward_only };

    explicit Tape(Mode mode = Mode::gradient) : mode_(mode) {}
    Tape(const Tape&) = delete;
    Tape& operator=(const Tape&) = delete;

    Mode mode() const { return mode_; }
    bool records_gradients() const { return mode_ == Mode::gradient; }
    int num_nodes() const { return int(nodes_.size()); }

    // Leaves. A variable receives a gradient; a constant does not.
    Var variable(const Arr& value);
    Var constant(const Arr& value);
    Var variable(const Vec& value) { return variable(Arr(value)); }
    Var constant(const Vec& value) { return constant(Arr(value)); }
    Var scalar(Real value, bool requires_grad = false);
    // A constant of the given shape with unspecified contents, for callers that compute it in
    // place through mutable_value() (its buffer is recycled like any node's: no copy, no
    // allocation when the graph is rebuilt).
    Var constant_buffer(int rows, int cols);

    // Replaces a leaf's value. The shape must not change (the graph was built for it).
    void set_value(Var leaf, const Arr& value);
    // Direct access for code that fills leaves in place (no allocation).
    Arr& mutable_value(Var leaf);

    // Drops every node created after the first `num_nodes` (a mark taken with num_nodes()), so a
    // model's weights can stay on the tape while a new graph is built per example (training over
    // clips with different f0: the oscillator bank bakes f0 in when it is created). Handles to the
    // dropped nodes become invalid. Their buffers are kept for the nodes pushed next at the same
    // positions (see the memory policy at the top).
    void truncate(int num_nodes);
    // Frees the buffers kept from truncated nodes (e.g. after the last rebuild of a large graph).
    void release_spares() { spares_.clear(); }
    // Buffers handed from spares to new nodes since the tape was made: a test hook.
    long long num_recycled() const { return num_recycled_; }

    // Re-runs every non-leaf node in creation order.
    void forward();
    // Zeroes every gradient, seeds d loss / d loss = 1 and runs the reverse sweep.
    // `loss` must be a 1 x 1 node.
    void backward(Var loss);

    const Arr& value(int id) const { return nodes_[size_t(id)]->value; }
    const Arr& grad(int id) const { return nodes_[size_t(id)]->grad; }
    // For backward passes, which add into their inputs' gradients. backward() does not zero the
    // buffers up front (on a long tape the memsets cost 5-7% of a step): grad_mutable() zeroes
    // a buffer on its first use in a sweep, and grad_accumulator() instead reports it as `fresh`
    // (stale contents), in which case the caller must assign every element, not add.
    Arr& grad_mutable(int id) {
        Node& n = *nodes_[size_t(id)];
        if (!n.grad_written) {
            n.grad.setZero();
            n.grad_written = true;
        }
        return n.grad;
    }
    Arr& grad_accumulator(int id, bool& fresh) {
        Node& n = *nodes_[size_t(id)];
        fresh = !n.grad_written;
        n.grad_written = true;
        return n.grad;
    }
    // Adds `e` (an Eigen array or matrix expression shaped like the input) into input id's
    // gradient with the convention above: assigns when the buffer is fresh, else adds. Does
    // nothing for inputs that take no gradient.
    template <class Expr>
    void accumulate_grad(int id, const Expr& e) {
        if (!requires_grad(id)) return;
        bool fresh = false;
        Arr& g = grad_accumulator(id, fresh);
        if (fresh)
            g.matrix().noalias() = e.matrix();
        else
            g.matrix().noalias() += e.matrix();
    }
    bool requires_grad(int id) const { return nodes_[size_t(id)]->requires_grad; }
    const Node& node(int id) const { return *nodes_[size_t(id)]; }

    // Used by op constructors: takes ownership, wires inputs, runs forward once, allocates the
    // gradient buffer if needed and returns the handle.
    Var push(std::unique_ptr<Node> node);

private:
    Mode mode_;
    std::vector<std::unique_ptr<Node>> nodes_;
    // spares_[i]: the node truncated from position i, until a new node at i takes its buffers;
    // empty for i < num_nodes().
    std::vector<std::unique_ptr<Node>> spares_;
    long long num_recycled_ = 0;

    Var push_leaf(std::unique_ptr<Node> node, const Arr& value);
    void take_spare(Node& node);
};

// Checks that two handles live on the same tape (ops abort with a message otherwise).
Tape& same_tape(Var a, Var b);
// Aborts with a one-line message: programming errors in graph construction are not recoverable.
[[noreturn]] void graph_error(const std::string& message);

}  // namespace ddsp::ad
