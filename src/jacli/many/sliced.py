"""An array file's variable as the many-points stream slices it: a chunk of points at a time,
read from the file (``request.arrays``) only when ``batched.chunks`` asks for it."""

from __future__ import annotations

from jacli.errors import ShapeError


class Sliced:
    """A variable of ``request.arrays.ArrayPoints`` as ``batched.chunks`` slices it: ``shape``
    (N, *shape), and ``[start:stop]`` the (stop-start, *shape) tensor of those points."""

    def __init__(self, points, name: str, shape: tuple[int, ...], backend) -> None:
        if points.shape(name) != tuple(shape):
            raise ShapeError(f"{points.where}: {name} has shape {points.shape(name)} at each "
                             f"point, not {tuple(shape)}", where=points.where)
        self.points, self.name, self.backend = points, name, backend
        self.shape = (len(points), *shape)

    def __getitem__(self, part: slice):
        import torch

        block = self.points.read(self.name, part.start or 0, min(part.stop, self.shape[0]))
        return torch.from_numpy(block).to(dtype=self.backend.dtype, device=self.backend.device)
