"""Every worked example of the seeds (shared/seed-examples.md), through the CLI, as JSON.

Answers are the seed table's, checked in float64; exact answers are compared as strings.
"""

from __future__ import annotations

import pytest

S2_TO_S5 = "b = zeros(1,2); b[0,0] = {0}; b[0,1] = {1}; 2*b"


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-12)


def test_s1_mean_of_affine(cli_json):
    d = cli_json("grad", "((a+3)*3).mean()", "--at", "a=[2,3]")
    assert d["value"]["numeric"] == [16.5]
    assert d["vjp"]["grad"]["a"] == [1.5, 1.5]
    assert d["vjp"]["v"] == [1.0]
    assert d["check"]["agree"] is True


def test_s2_subscript_assignment_diagonal(cli_json):
    src = S2_TO_S5.format("a[0,0]**2", "a[0,1]**3")
    d = cli_json("vjp", src, "--at", "a=[[2,4]]", "--v", "[[1,1]]")
    assert d["value"]["numeric"] == [8.0, 128.0]
    assert d["vjp"]["grad"]["a"] == [[8.0, 96.0]]
    assert d["jacobian"]["numeric"] == [[8.0, 0.0], [0.0, 96.0]]


@pytest.mark.parametrize("v, grad", [("[[1,1]]", [[10.0, 98.0]]), ("[[1,2]]", [[12.0, 194.0]])])
def test_s3_s4_coupled(cli_json, v, grad):
    src = S2_TO_S5.format("a[0,0]**2 + a[0,1]", "a[0,1]**3 + a[0,0]")
    d = cli_json("vjp", src, "--at", "a=[[2,4]]", "--v", v)
    assert d["value"]["numeric"] == [16.0, 132.0]
    assert d["jacobian"]["numeric"] == [[8.0, 2.0], [2.0, 96.0]]
    assert d["vjp"]["grad"]["a"] == grad  # S4: 2 + 2*96 = 194 (the tutorial's "12" is a slip)


def test_s5_full_jacobian(cli_json):
    src = S2_TO_S5.format("a[0,0]**2 + a[0,1]", "a[0,1]**3 + 2*a[0,0]")
    d = cli_json("jacobian", src, "--at", "a=[[2,4]]")
    assert d["jacobian"]["numeric"] == [[8.0, 2.0], [4.0, 96.0]]
    assert d["jacobian"]["exact"] == [["8", "2"], ["4", "96"]]
    assert d["inputs"] == ["a[0,0]", "a[0,1]"]


def test_s6_mm_with_zero_weights(cli_json):
    d = cli_json("vjp", "a @ w", "--at", "a=[[2,3],[1,2]]", "--at", "w=[[0],[0]]",
                 "--v", "[[1],[1]]")
    assert d["vjp"]["grad"]["w"] == [[3.0], [5.0]]
    assert d["vjp"]["grad"]["a"] == [[0.0, 0.0], [0.0, 0.0]]


def test_s7_mean_of_square(cli_json):
    d = cli_json("grad", "y = x + 2; z = y*y*3; z.mean()", "--at", "x=[[1,1],[1,1]]")
    assert d["value"]["numeric"] == [27.0]
    assert d["vjp"]["grad"]["x"] == [[4.5, 4.5], [4.5, 4.5]]
    assert d["vjp"]["exact"] == ["9/2"] * 4


def test_s8_accumulated_gradient(cli_json):
    d = cli_json("grad", "y = x + 2; z = y*y*3; z.mean() + x.sum()", "--at", "x=[[1,1],[1,1]]")
    assert d["vjp"]["grad"]["x"] == [[5.5, 5.5], [5.5, 5.5]]
    d = cli_json("grad", "x.sum()", "--at", "x=[[1,1],[1,1]]")  # after zero_(): a fresh .grad
    assert d["vjp"]["grad"]["x"] == [[1.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize("v, grad", [
    ("[[1,0.1],[0.01,0.001]]", [2.0, 0.2, 0.02, 0.002]),
    ("[[1,1],[1,1]]", [2.0, 2.0, 2.0, 2.0]),
])
def test_s9_view(cli_json, v, grad):
    d = cli_json("vjp", "y = 2*x; y.view(2,2)", "--at", "x=[1,2,3,4]", "--v", v)
    assert d["output_shape"] == [2, 2]
    assert d["vjp"]["grad"]["x"] == approx(grad)
    assert d["check"]["agree"] is True


S10_AT = ("--at", "x=[-0.6103,0.2401,-0.5577]", "--at", "y=[0.9066,0.2731,1.2899]",
          "--at", "z=[1.3269,-2.0241,-0.8399]")


def test_s10_dot(cli_json):
    d = cli_json("grad", "t = x + y; t.dot(z)", *S10_AT)
    assert d["value"]["numeric"] == approx([-1.26058243])
    z, t = [1.3269, -2.0241, -0.8399], [0.2963, 0.5132, 0.7322]
    assert d["vjp"]["grad"]["x"] == approx(z)
    assert d["vjp"]["grad"]["y"] == approx(z)
    assert d["vjp"]["grad"]["z"] == approx(t)


def test_s10_backward_of_intermediate_with_v_z(cli_json):
    d = cli_json("vjp", "t = x + y; t.dot(z)", *S10_AT, "--output", "t",
                 "--v", "1.3269,-2.0241,-0.8399")
    assert d["vjp"]["grad"]["x"] == approx([1.3269, -2.0241, -0.8399])
    assert d["vjp"]["grad"]["z"] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("src", [
    "x**2 + detach(x**3)",
    "x**2 + (x**3).detach()",
    "y1 = x**2\nwith torch.no_grad():\n    y2 = x**3\ny3 = y1 + y2",
])
def test_s11_gradient_stop(cli_json, src):
    d = cli_json("grad", src, "--at", "x=1")
    assert d["value"]["numeric"] == [2.0]
    assert d["vjp"]["grad"]["x"] == 2.0  # not 5: the x**3 branch carries no gradient
    assert d["check"]["agree"] is True


def test_s12_square_ones(cli_json):
    d = cli_json("vjp", "x**2", "--at", "x=[-1.5383,-0.2821,-0.2916]", "--v", "1,1,1")
    assert d["vjp"]["numeric"] == approx([-3.0766, -0.5642, -0.5832])


def test_s13_three_by_three(cli_json):
    d = cli_json("vjp", "x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3", "--at", "1,2,3",
                 "--v", "1,1,1")
    assert d["value"]["numeric"] == [8.0, 18.0, 33.0]
    assert d["vjp"]["numeric"] == [5.0, 18.0, 34.0]
    assert d["jacobian"]["numeric"] == [[2, 2, 1], [1, 12, 6], [2, 4, 27]]


def test_s14_sum(cli_json):
    d = cli_json("grad", "sum(x**2 + 2)", "--at", "x=[1,2,3]")
    assert d["value"]["numeric"] == [20.0]
    assert d["vjp"]["grad"]["x"] == [2.0, 4.0, 6.0]


def test_s15_exact_fractions(cli_json):
    d = cli_json("vjp", "x1*x2*x3, x1+x2+x3, x1+x2*x3", "--at", "1,2,3", "--v", "0.1,0.2,0.3")
    assert d["value"]["numeric"] == [6.0, 6.0, 7.0]
    assert d["vjp"]["exact"] == ["11/10", "7/5", "1"]
    assert d["vjp"]["numeric"] == approx([1.1, 1.4, 1.0])


def test_s16_jacobian(cli_json):
    d = cli_json("jacobian", "2*x1+x2**2, x1**2+2*x2**3", "--at", "1,2")
    assert d["value"]["numeric"] == [6.0, 17.0]
    assert d["jacobian"]["numeric"] == [[2.0, 4.0], [2.0, 24.0]]
    assert d["jacobian"]["symbolic"] == [["2", "2*x2"], ["2*x1", "6*x2**2"]]


@pytest.mark.parametrize("v, answer", [("1,0", [2, 4]), ("0,1", [2, 24]), ("1,2", [6, 52]),
                                       ("2,1", [6, 32])])
def test_s17_vjp_rows(cli_json, v, answer):
    d = cli_json("vjp", "2*x1+x2**2, x1**2+2*x2**3", "--at", "1,2", "--v", v)
    assert d["vjp"]["numeric"] == answer
    assert d["vjp"]["exact"] == [str(a) for a in answer]


def test_s17_identity_is_written_out(cli):
    r = cli("vjp", "2*x1+x2**2, x1**2+2*x2**3", "--at", "1,2", "--v", "1,2")
    assert r.code == 0
    assert "vᵀJ = 1·[2, 4] + 2·[2, 24] = [6, 52]" in r.out
