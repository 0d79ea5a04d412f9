-- grain: one row: the number of rows of one view.
select count(*) as n from {view}
