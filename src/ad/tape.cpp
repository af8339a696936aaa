#include "ad/tape.h"

#include <cstdio>
#include <cstdlib>
#include <typeinfo>

namespace ddsp::ad {

const Arr& Var::value() const { return tape->value(id); }
const Arr& Var::grad() const { return tape->grad(id); }

void graph_error(const std::string& message) {
    std::fprintf(stderr, "ddsp: autodiff graph error: %s\n", message.c_str());
    std::abort();
}

Tape& same_tape(Var a, Var b) {
    if (!a.valid() || !b.valid()) graph_error("operation on an empty Var");
    if (a.tape != b.tape) graph_error("operation mixes Vars from two tapes");
    return *a.tape;
}

namespace {

class LeafNode final : public Node {
public:
    const char* op_name() const override { return "leaf"; }
    void forward(Tape&) override {}
    void backward(Tape&) override {}
};

}  // namespace

Var Tape::variable(const Arr& value) {
    auto node = std::make_unique<LeafNode>();
    node->is_leaf = true;
    node->requires_grad = records_gradients();
    return push_leaf(std::move(node), value);
}

Var Tape::constant(const Arr& value) {
    auto node = std::make_unique<LeafNode>();
    node->is_leaf = true;
    return push_leaf(std::move(node), value);
}

Var Tape::constant_buffer(int rows, int cols) {
    if (rows < 0 || cols < 0) graph_error("constant_buffer: negative shape");
    auto node = std::make_unique<LeafNode>();
    node->is_leaf = true;
    take_spare(*node);
    node->value.resize(rows, cols);
    return push(std::move(node));
}

Var Tape::scalar(Real value, bool requires_grad) {
    Arr a(1, 1);
    a(0, 0) = value;
    return requires_grad ? variable(a) : constant(a);
}

// The copy goes into the recycled buffer, so an equal-sized leaf allocates nothing.
Var Tape::push_leaf(std::unique_ptr<Node> node, const Arr& value) {
    take_spare(*node);
    node->value = value;
    return push(std::move(node));
}

void Tape::set_value(Var leaf, const Arr& value) {
    Node& n = *nodes_[size_t(leaf.id)];
    if (!n.is_leaf) graph_error("set_value on a non-leaf node");
    if (n.value.rows() != value.rows() || n.value.cols() != value.cols())
        graph_error("set_value changes the shape of a leaf");
    n.value = value;
}

Arr& Tape::mutable_value(Var leaf) {
    Node& n = *nodes_[size_t(leaf.id)];
    if (!n.is_leaf) graph_error("mutable_value on a non-leaf node");
    return n.value;
}

void Tape::truncate(int num_nodes) {
    if (num_nodes < 0 || num_nodes > this->num_nodes()) graph_error("truncate: mark out of range");
    if (spares_.size() < nodes_.size()) spares_.resize(nodes_.size());
    for (size_t i = size_t(num_nodes); i < nodes_.size(); ++i) spares_[i] = std::move(nodes_[i]);
    nodes_.resize(size_t(num_nodes));
}

void Tape::take_spare(Node& node) {
    const size_t pos = nodes_.size();
    if (pos >= spares_.size() || !spares_[pos]) return;
    const std::unique_ptr<Node> spare = std::move(spares_[pos]);  // freed on return, minus what was taken
    Node& old = *spare;
    if (typeid(old) == typeid(node)) node.adopt(old);
    num_recycled_ += old.value.size() > 0;
    node.value.swap(old.value);
    if (node.requires_grad) {  // a gradient buffer only where one is needed (forward-only: never)
        num_recycled_ += old.grad.size() > 0;
        node.grad.swap(old.grad);
    }
}

Var Tape::push(std::unique_ptr<Node> node) {
    if (!node->is_leaf) {
        bool needs = false;
        for (int in : node->inputs) {
            if (in < 0 || in >= num_nodes()) graph_error(std::string(node->op_name()) + ": bad input");
            needs = needs || nodes_[size_t(in)]->requires_grad;
        }
        node->requires_grad = needs && records_gradients();
        take_spare(*node);
        node->forward(*this);
    }
    if (node->requires_grad) {
        node->grad.resize(node->value.rows(), node->value.cols());  // no allocation at the same size
        node->grad.setZero();
    }
    nodes_.push_back(std::move(node));
    return Var{this, num_nodes() - 1};
}

void Tape::forward() {
    for (auto& n : nodes_)
        if (!n->is_leaf) n->forward(*this);
}

void Tape::backward(Var loss) {
    if (!records_gradients()) graph_error("backward() on a forward-only tape");
    if (loss.tape != this) graph_error("backward() on a Var from another tape");
    Node& out = *nodes_[size_t(loss.id)];
    if (out.value.size() != 1) graph_error("backward() needs a 1 x 1 loss");
    // Gradients are zeroed lazily (see grad_mutable); a node nothing wrote to has a zero
    // gradient and so contributes nothing: its backward() is skipped.
    for (auto& n : nodes_) n->grad_written = !n->requires_grad;
    if (out.requires_grad) {
        out.grad(0, 0) = 1;
        out.grad_written = true;
        for (int i = loss.id; i >= 0; --i) {
            Node& n = *nodes_[size_t(i)];
            if (n.requires_grad && !n.is_leaf && n.grad_written) n.backward(*this);
        }
    }
    // Every gradient holds its full value afterwards, zeros included.
    for (auto& n : nodes_)
        if (!n->grad_written) {
            n->grad.setZero();
            n->grad_written = true;
        }
}

}  // namespace ddsp::ad
